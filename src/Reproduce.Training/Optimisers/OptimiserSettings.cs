namespace Reproduce.Training.Optimisers;

/// <summary>
/// Hyper-parameters handed to an optimiser factory. Weight decay is coupled L2 (added to the gradient), the
/// PyTorch semantics of SGD(weight_decay) and Adam(weight_decay) and the paper's "WD".
/// </summary>
public sealed record OptimiserSettings(double LearningRate, double Momentum = 0.0, double WeightDecay = 0.0,
    double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8);
