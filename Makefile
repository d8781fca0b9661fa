# Reproduce: the commands a user and CI run. libgomp reads OMP_WAIT_POLICY when libtorch loads, so it is set
# here, before any dotnet process starts (setting it from inside .NET is too late).
export OMP_WAIT_POLICY := passive
export OMP_NUM_THREADS ?= 2
export DOTNET_CLI_TELEMETRY_OPTOUT := 1
export DOTNET_NOLOGO := 1

CONFIG ?= Release
CLI := src/Reproduce.Cli/bin/$(CONFIG)/net10.0/linux-x64/reproduce.dll

.PHONY: build test bench clean

build:
	dotnet build Reproduce.sln -c $(CONFIG)

## The test suite (unit, property, bad-input); TRX results land in TestResults/results.trx.
test:
	dotnet test Reproduce.sln -c $(CONFIG) --settings test.runsettings \
		--logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" --results-directory TestResults

## Benchmark figures (medians, side by side with Debian's PyTorch when present). Not part of CI.
bench:
	dotnet build src/Reproduce.Cli -c $(CONFIG)
	dotnet $(CLI) bench $(BENCH_ARGS)

clean:
	rm -rf TestResults src/*/bin src/*/obj tests/*/bin tests/*/obj
