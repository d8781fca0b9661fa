using TorchSharp;
using static TorchSharp.torch;
var x = tensor(new double[]{1,2}, requires_grad: true);
var y = tensor(new double[]{3,4}, requires_grad: true);
var l = (x*x).sum();
var g = torch.autograd.grad(new[]{l}, new[]{x,y}, allow_unused: true);
Console.WriteLine($"count {g.Count}; g1 null? {g[1] is null}");
try { Console.WriteLine(g[1].Handle); Console.WriteLine(g[1].numel()); } catch (Exception e) { Console.WriteLine("EXC " + e.GetType() + e.Message); }
// matmul mismatch

try { var lin = nn.Linear(3, 2); var c = lin.forward(ones(4, 5)); Console.WriteLine("no abort lin"); } catch (Exception e) { Console.WriteLine("linear EXC " + e.Message); }
