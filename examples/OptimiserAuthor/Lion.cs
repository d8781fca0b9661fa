using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OptimiserAuthor;

/// <summary>
/// Lion (EvoLved Sign Momentum; Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Algorithm 2), a
/// TorchSharp optimiser written the way TorchSharp writes its own (SGD, Adam): an <see cref="OptimizerHelper"/> with
/// per-parameter state and parameter groups, so the suite's trainer can set the learning rate of each group (schedules)
/// and SAM can wrap it like any other optimiser. Per parameter w with gradient g and momentum m (zero at the start):
/// <code>
///   c = beta1 m + (1 - beta1) g              interpolate the momentum and the gradient
///   w = w - lr (sign(c) + lambda w)          every coordinate moves by exactly lr (plus the decoupled decay)
///   m = beta2 m + (1 - beta2) g              the momentum is tracked with the other beta
/// </code>
/// sign(0) = 0. The defaults are the paper's, beta1 0.9 and beta2 0.99. The update has the same size whatever the
/// gradient's scale, so Lion needs a several times smaller learning rate than SGD; the paper scales the decoupled
/// weight decay lambda up by the same factor to keep lr * lambda, the decay per step.
/// </summary>
public sealed class Lion : OptimizerHelper
{
    public Lion(IEnumerable<Parameter> parameters, double lr, double beta1 = 0.9, double beta2 = 0.99, double weightDecay = 0)
    {
        if (!(lr > 0) || !double.IsFinite(lr)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "Lion's learning rate must be positive and finite.");
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "Lion's beta1 must lie in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "Lion's beta2 must lie in [0, 1).");
        if (!(weightDecay >= 0) || !double.IsFinite(weightDecay)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "Lion's weight decay must be non-negative and finite.");
        _defaults = new Options { LearningRate = lr, InitialLearningRate = lr, Beta1 = beta1, Beta2 = beta2, WeightDecay = weightDecay };
        _parameter_groups = [];
        add_param_group(new ParamGroup { Parameters = parameters });
    }

    public override Tensor step(Func<Tensor>? closure = null) => _step<ParamGroup>(group =>
    {
        // _step runs this under no_grad and a dispose scope: the temporaries (c, its sign) are freed after the step.
        var options = group.Options;
        double lr = options.LearningRate!.Value, beta1 = options.Beta1!.Value, beta2 = options.Beta2!.Value, lambda = options.WeightDecay!.Value;
        foreach (var parameter in group.Parameters)
        {
            var grad = parameter.grad;
            if (grad is null) continue;
            var state = (State)_state[parameter.Handle];
            var m = state.Momentum ??= zeros_like(parameter).DetachFromDisposeScope();
            var c = m.mul(beta1).add_(grad, alpha: 1 - beta1);
            // w - lr (sign(c) + lambda w) = w (1 - lr lambda) - lr sign(c).
            if (lambda != 0) parameter.mul_(1 - lr * lambda);
            parameter.add_(c.sign_(), alpha: -lr);
            m.mul_(beta2).add_(grad, alpha: 1 - beta2);
        }
    }, closure);

    public override void add_param_group(TorchSharp.Modules.ParamGroup param_group)
    {
        var defaults = (Options)_defaults;
        param_group.Options ??= new Options();
        var options = (Options)param_group.Options;
        options.LearningRate ??= defaults.LearningRate;
        options.Beta1 ??= defaults.Beta1;
        options.Beta2 ??= defaults.Beta2;
        options.WeightDecay ??= defaults.WeightDecay;
        options.InitialLearningRate = options.LearningRate!.Value;
        _parameter_groups.Add(param_group);
        foreach (var p in param_group.Parameters)
        {
            var state = new State(p);
            _state[p.Handle] = state;
            state.Initialize(options);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        foreach (var entry in _state) ((State)entry.Item2).Momentum?.Dispose();
        _state.Clear();
    }

    /// <summary>The hyper-parameters of a parameter group (null = the optimiser's default).</summary>
    public sealed class Options : OptimizerOptions
    {
        public double? Beta1 { get; set; }
        public double? Beta2 { get; set; }
        public double? WeightDecay { get; set; }

        public override void SaveStateDict(BinaryWriter writer)
        {
            base.SaveStateDict(writer);
            writer.Write(Beta1!.Value);
            writer.Write(Beta2!.Value);
            writer.Write(WeightDecay!.Value);
        }

        public override void LoadStateDict(BinaryReader reader)
        {
            base.LoadStateDict(reader);
            Beta1 = reader.ReadDouble();
            Beta2 = reader.ReadDouble();
            WeightDecay = reader.ReadDouble();
        }

        public override void LoadStateDict(OptimizerOptions source)
        {
            base.LoadStateDict(source);
            var other = (Options)source;
            (Beta1, Beta2, WeightDecay) = (other.Beta1, other.Beta2, other.WeightDecay);
        }
    }

    public sealed class ParamGroup : ParamGroup<Options>
    {
    }

    /// <summary>Per-parameter state: the momentum m, created at the parameter's first step.</summary>
    public sealed class State(Parameter parameter) : OptimizerState(parameter)
    {
        public Tensor? Momentum;

        public override void Initialize(OptimizerOptions options)
        {
            Momentum?.Dispose();
            Momentum = null;
        }

        public override void to(Device device) => Momentum = Momentum?.to(device);

        public override void SaveStateDict(BinaryWriter writer) => SaveConditionalStateTensor(writer, Momentum);

        public override void LoadStateDict(BinaryReader reader) => LoadConditionalStateTensor(reader, ref Momentum, _parameter.device);

        public override void LoadStateDict(OptimizerState source)
        {
            Momentum?.Dispose();
            Momentum = ((State)source).Momentum?.to(_parameter.device, copy: true);
        }
    }
}
