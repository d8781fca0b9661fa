using System.IO.Compression;

namespace Reproduce.Training.Data;

/// <summary>
/// The IDX format of MNIST and Fashion-MNIST (optionally gzipped): a big-endian magic number 0x00 0x00 type ndim,
/// ndim big-endian int32 sizes, then the data. Only unsigned bytes (type 0x08) are used by these data sets.
/// Every check names the file, so a truncated download or a wrong path is obvious.
/// </summary>
public static class IdxFile
{
    public sealed record Contents(int[] Shape, byte[] Data);

    public static Contents Read(string path, int expectedDimensions)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"IDX file not found: {path}", path);
        byte[] raw;
        using (var file = File.OpenRead(path))
        using (var stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file)
        using (var memory = new MemoryStream())
        {
            try { stream.CopyTo(memory); }
            catch (InvalidDataException e) { throw new InvalidDataException($"{path}: not a valid gzip stream ({e.Message}).", e); }
            raw = memory.ToArray();
        }
        if (raw.Length < 4) throw new InvalidDataException($"{path}: too short for an IDX header ({raw.Length} bytes).");
        if (raw[0] != 0 || raw[1] != 0) throw new InvalidDataException($"{path}: bad IDX magic number (first bytes {raw[0]:x2} {raw[1]:x2}, expected 00 00).");
        if (raw[2] != 0x08) throw new InvalidDataException($"{path}: IDX element type 0x{raw[2]:x2} is not unsigned byte (0x08).");
        int dims = raw[3];
        if (dims != expectedDimensions) throw new InvalidDataException($"{path}: IDX file has {dims} dimensions, expected {expectedDimensions}.");
        if (raw.Length < 4 + 4 * dims) throw new InvalidDataException($"{path}: truncated IDX header.");
        var shape = new int[dims];
        long count = 1;
        for (int d = 0; d < dims; d++)
        {
            int o = 4 + 4 * d;
            shape[d] = (raw[o] << 24) | (raw[o + 1] << 16) | (raw[o + 2] << 8) | raw[o + 3];
            if (shape[d] < 0) throw new InvalidDataException($"{path}: negative size in dimension {d}.");
            try { count = checked(count * shape[d]); }
            catch (OverflowException) { throw new InvalidDataException($"{path}: IDX shape [{string.Join(", ", shape.Take(d + 1))}...] holds more elements than a file can."); }
        }
        long header = 4 + 4 * dims;
        if (raw.Length - header != count)
            throw new InvalidDataException($"{path}: header promises {count} bytes of data for shape [{string.Join(", ", shape)}] but the file holds {raw.Length - header}.");
        return new Contents(shape, raw.AsSpan((int)header).ToArray());
    }
}
