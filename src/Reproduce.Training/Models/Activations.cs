using TorchSharp;
using static TorchSharp.torch;

namespace Reproduce.Training.Models;

/// <summary>The activations a model spec may name.</summary>
public static class Activations
{
    public static readonly IReadOnlyList<string> Names = ["relu", "tanh"];

    public static nn.Module<Tensor, Tensor> Create(string name) => name switch
    {
        "relu" => nn.ReLU(),
        "tanh" => nn.Tanh(),
        _ => throw new ArgumentException($"Unknown activation '{name}'. Valid: {string.Join(", ", Names)}."),
    };
}
