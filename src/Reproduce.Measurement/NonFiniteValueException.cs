namespace Reproduce.Measurement;

/// <summary>
/// A NaN or infinity reached a place where it would otherwise flow on silently (libtorch propagates NaN without
/// complaint). The message names what was non-finite so the user can find the diverged run or corrupt input.
/// </summary>
public sealed class NonFiniteValueException(string message) : ArithmeticException(message);
