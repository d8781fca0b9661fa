# Reproduce: the commands a user and CI run. libgomp reads OMP_WAIT_POLICY when libtorch loads, so it is set
# here, before any dotnet process starts (setting it from inside .NET is too late).
export OMP_WAIT_POLICY := passive
export OMP_NUM_THREADS ?= 2
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

CONFIG ?= Release
CLI := src/Reproduce.Cli/bin/$(CONFIG)/net10.0/linux-x64/reproduce.dll

.PHONY: build test test-fast bench reproduce report report-screenshot setup clean

build:
	dotnet build Reproduce.sln -c $(CONFIG)

## Debian packages the suite needs: the data (Fashion-MNIST, MIT) and a font for the plots. Skipped when present.
setup:
	@missing=""; for p in dataset-fashion-mnist fonts-dejavu-core; do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" -eq 0 ] || echo sudo ) apt-get install -y -qq $$missing >/dev/null; fi

## The main job: every claim at the default profile (about 10 minutes on 2 cores), then the report.
## PROFILE=smoke|default|nightly; ARGS passes more options (e.g. ARGS="--filter c03 --workers 1").
PROFILE ?= default
reproduce: setup
	dotnet build src/Reproduce.Cli -c $(CONFIG)
	dotnet $(CLI) run --profile $(PROFILE) $(ARGS); status=$$?; \
	echo "Report: $$(pwd)/results$$( [ "$(PROFILE)" = default ] || echo /$(PROFILE) )/report.html"; \
	exit $$status

## Re-evaluate and re-render the report from the stored results (no training).
report:
	dotnet build src/Reproduce.Cli -c $(CONFIG)
	dotnet $(CLI) report --profile $(PROFILE) $(ARGS)

## A PNG of the report page, rendered by headless Chromium (Debian's chromium).
report-screenshot:
	@command -v chromium >/dev/null || { echo "chromium is not installed: apt-get install chromium"; exit 2; }
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,4000 \
		--screenshot=$$(pwd)/results/report.png file://$$(pwd)/results$$( [ "$(PROFILE)" = default ] || echo /$(PROFILE) )/report.html
	@echo "Screenshot: $$(pwd)/results/report.png"

## The test suite: unit, property, bad-input, and the claim tests (every claim at the default profile, 10 seeds,
## against baselines/default), and examples/OptimiserAuthor at smoke; one TRX per test project lands in
## TestResults/results_<project>_*.trx (LogFilePrefix: with LogFileName the second project overwrote the first).
test: setup
	dotnet test Reproduce.sln -c $(CONFIG) --settings test.runsettings \
		--logger "trx;LogFilePrefix=results" --logger "console;verbosity=normal" --results-directory TestResults

## The developer loop: everything except the claim tests (which train the whole default profile, ~8 minutes).
test-fast: setup
	dotnet test Reproduce.sln -c $(CONFIG) --settings test.runsettings --filter "TestCategory!=Claim" \
		--logger "trx;LogFilePrefix=results-fast" --logger "console;verbosity=minimal" --results-directory TestResults

## Benchmark figures (medians, side by side with Debian's PyTorch when present). Not part of CI.
bench:
	dotnet build src/Reproduce.Cli -c $(CONFIG)
	dotnet $(CLI) bench $(BENCH_ARGS)

clean:
	rm -rf TestResults src/*/bin src/*/obj tests/*/bin tests/*/obj
