using System.Text;

namespace RnnNotebooks.Vision;

/// <summary>
/// The few edits and reads the course needs on an ONNX model file, done on its protobuf bytes directly:
/// listing the graph's inputs and outputs, reading a float initializer, and exposing an intermediate tensor
/// as an extra graph output (ONNX Runtime only returns graph outputs).
/// </summary>
/// <remarks>
/// Only the fields used here are interpreted (ModelProto.graph = 7; GraphProto.initializer = 5,
/// input = 11, output = 12; ValueInfoProto.name = 1; TensorProto dims = 1, float_data = 4, name = 8,
/// raw_data = 9); every other byte is copied unchanged. A full ONNX library would be a large dependency for
/// three operations.
/// Introduced in 06-image-captioning.
/// </remarks>
public static class OnnxModelFile
{
    const int ModelGraph = 7;
    const int GraphInitializer = 5;
    const int GraphInput = 11;
    const int GraphOutput = 12;

    /// <summary>Names of the graph's declared inputs (initializers excluded when the file lists them as inputs).</summary>
    public static IReadOnlyList<string> Inputs(byte[] model) => ValueInfoNames(model, GraphInput);

    /// <summary>Names of the graph's declared outputs.</summary>
    public static IReadOnlyList<string> Outputs(byte[] model) => ValueInfoNames(model, GraphOutput);

    /// <summary>A copy of <paramref name="model"/> whose graph also outputs the tensors <paramref name="names"/>
    /// (shape and type are left to ONNX Runtime's inference).</summary>
    public static byte[] WithExtraOutputs(byte[] model, params string[] names)
    {
        var (graphStart, graphLength, headerStart) = FindGraph(model);
        using var extra = new MemoryStream();
        foreach (var name in names)
        {
            var nameBytes = Encoding.UTF8.GetBytes(name);
            using var valueInfo = new MemoryStream();
            WriteTag(valueInfo, 1, 2);
            WriteVarint(valueInfo, (ulong)nameBytes.Length);
            valueInfo.Write(nameBytes);
            WriteTag(extra, GraphOutput, 2);
            WriteVarint(extra, (ulong)valueInfo.Length);
            valueInfo.WriteTo(extra);
        }
        using var result = new MemoryStream(model.Length + (int)extra.Length + 16);
        result.Write(model, 0, headerStart);
        WriteTag(result, ModelGraph, 2);
        WriteVarint(result, (ulong)(graphLength + extra.Length));
        result.Write(model, graphStart, graphLength);
        extra.WriteTo(result);
        result.Write(model, graphStart + graphLength, model.Length - graphStart - graphLength);
        return result.ToArray();
    }

    /// <summary>A float initializer of the graph: its dims and values.</summary>
    /// <exception cref="InvalidDataException">The graph has no initializer of that name, or it holds no float data.</exception>
    public static (long[] Dims, float[] Values) ReadFloatInitializer(byte[] model, string name)
    {
        var (graphStart, graphLength, _) = FindGraph(model);
        foreach (var (field, _, start, length) in Fields(model, graphStart, graphLength))
        {
            if (field != GraphInitializer) continue;
            var dims = new List<long>();
            string? tensorName = null;
            float[]? values = null;
            foreach (var (f, wire, s, l) in Fields(model, start, length))
            {
                if (f == 1 && wire == 0) { var p = s; dims.Add((long)ReadVarint(model, ref p)); }
                else if (f == 1 && wire == 2) { var p = s; while (p < s + l) dims.Add((long)ReadVarint(model, ref p)); }
                else if (f == 8) tensorName = Encoding.UTF8.GetString(model, s, l);
                else if ((f == 4 && wire == 2) || f == 9)
                {
                    values = new float[l / 4];
                    Buffer.BlockCopy(model, s, values, 0, values.Length * 4);
                }
            }
            if (tensorName != name) continue;
            if (values is null || values.Length != dims.Aggregate(1L, (a, b) => a * b))
                throw new InvalidDataException($"ONNX initializer '{name}' holds no float data of its declared shape [{string.Join(", ", dims)}].");
            return ([.. dims], values);
        }
        throw new InvalidDataException($"The ONNX graph has no initializer named '{name}'.");
    }

    static IReadOnlyList<string> ValueInfoNames(byte[] model, int kind)
    {
        var (graphStart, graphLength, _) = FindGraph(model);
        var names = new List<string>();
        foreach (var (field, _, start, length) in Fields(model, graphStart, graphLength))
            if (field == kind)
                foreach (var (f, _, s, l) in Fields(model, start, length))
                    if (f == 1) names.Add(Encoding.UTF8.GetString(model, s, l));
        return names;
    }

    static (int Start, int Length, int HeaderStart) FindGraph(byte[] model)
    {
        var position = 0;
        while (position < model.Length)
        {
            var header = position;
            var key = ReadVarint(model, ref position);
            var (field, wire) = ((int)(key >> 3), (int)(key & 7));
            if (field == ModelGraph && wire == 2)
            {
                var length = (int)ReadVarint(model, ref position);
                return (position, length, header);
            }
            position = Skip(model, position, wire);
        }
        throw new InvalidDataException("Not an ONNX model: the file has no graph (ModelProto field 7).");
    }

    static IEnumerable<(int Field, int Wire, int Start, int Length)> Fields(byte[] b, int start, int length)
    {
        var position = start;
        var end = start + length;
        while (position < end)
        {
            var key = ReadVarint(b, ref position);
            var (field, wire) = ((int)(key >> 3), (int)(key & 7));
            var valueStart = position;
            if (wire == 2)
            {
                var l = (int)ReadVarint(b, ref position);
                yield return (field, wire, position, l);
                position += l;
            }
            else
            {
                position = Skip(b, position, wire);
                yield return (field, wire, valueStart, position - valueStart);
            }
        }
        if (position != end) throw new InvalidDataException("ONNX protobuf: a field runs past the end of its message (truncated file?).");
    }

    static int Skip(byte[] b, int position, int wire) => wire switch
    {
        0 => SkipVarint(b, position),
        1 => position + 8,
        2 => LengthDelimitedEnd(b, position),
        5 => position + 4,
        _ => throw new InvalidDataException($"ONNX protobuf: unsupported wire type {wire} at byte {position} (corrupt file?)."),
    };

    static int SkipVarint(byte[] b, int position)
    {
        ReadVarint(b, ref position);
        return position;
    }

    static int LengthDelimitedEnd(byte[] b, int position)
    {
        var length = (int)ReadVarint(b, ref position);
        return position + length;
    }

    static ulong ReadVarint(byte[] b, ref int position)
    {
        ulong result = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= b.Length) throw new InvalidDataException("ONNX protobuf: the file ends inside a number (truncated?).");
            var c = b[position++];
            result |= (ulong)(c & 0x7f) << shift;
            if (c < 0x80) return result;
        }
        throw new InvalidDataException("ONNX protobuf: a varint longer than 64 bits (corrupt file?).");
    }

    static void WriteTag(Stream s, int field, int wire) => WriteVarint(s, (ulong)((field << 3) | wire));

    static void WriteVarint(Stream s, ulong value)
    {
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        s.WriteByte((byte)value);
    }
}
