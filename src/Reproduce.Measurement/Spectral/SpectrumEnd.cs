namespace Reproduce.Measurement.Spectral;

/// <summary>Which end of the spectrum to resolve: the most positive or the most negative (negative curvature) eigenvalues.</summary>
public enum SpectrumEnd
{
    Largest,
    Smallest,
}
