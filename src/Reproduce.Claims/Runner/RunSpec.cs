using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Reproduce.Claims.Specs;
using Reproduce.Training.Regimes;

namespace Reproduce.Claims.Runner;

/// <summary>
/// One training run: a setting at a profile, a regime and a seed. Its key is the SHA-256 of the canonical JSON of
/// everything that determines the trained weights and the measures (setting block, regime record, seed, and
/// <see cref="RecipeVersion"/>, bumped whenever training or measurement code changes what a run produces), so runs are
/// shared between claims and between profiles with identical blocks, and a stored result is never reused for a
/// different recipe.
/// </summary>
public sealed record RunSpec(string Setting, string Profile, SettingProfile Block, Regime Regime, int Seed)
{
    public const int RecipeVersion = 1;

    public string CanonicalJson => JsonSerializer.Serialize(new { recipe = RecipeVersion, block = Block, regime = Regime, seed = Seed }, Canonical);

    public string Key => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson)))[..20];

    public string Describe() => $"{Setting}/{Regime.Name}/seed {Seed}";

    private static readonly JsonSerializerOptions Canonical = new(JsonSerializerDefaults.Web) { WriteIndented = false };
}
