using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using RnnNotebooks.Platform;
using TorchSharp;

namespace RnnNotebooks.Tests.Platform;

/// <summary>
/// The library makes no <see cref="Scalar"/> that only the finalizer frees (see <see cref="Scalars"/>): read from the
/// compiled IL, neither an implicit conversion to <see cref="Scalar"/> (<c>x.mul(0.5)</c>, <c>fill_(0)</c>) nor a call to
/// a TorchSharp method that makes one inside (<c>x.add(y)</c> is <c>add(y, 1)</c>, <c>square()</c> is <c>pow(2)</c>,
/// the operators, <c>arange(n)</c>). Any of these can crash a long training run, once in hours, with
/// "Expected false to be true … toFloat" or "Unknown scalar type" (docs/troubleshooting.md, "A long training run dies in toFloat").
/// </summary>
public class ImplicitScalarTests
{
    [Fact]
    public void TheLibrary_MakesNoImplicitScalars()
    {
        var risky = ScalarMakers(typeof(torch).Assembly.Location);
        // The exercise checks (Notebook.Exercises.LessonNN) are left out: they run a few operations once, in a cell,
        // never inside a long training run, and they read like the lesson's own cells.
        var found = Scan(typeof(Scalars).Assembly.Location, risky)
            .Where(line => !System.Text.RegularExpressions.Regex.IsMatch(line, @"^Lesson\d\d::")).ToList();
        Assert.True(found.Count == 0,
            "Implicit Scalars (pass a Platform.Scalars value or a `using` Scalar; give add/add_ an explicit alpha):\n" +
            string.Join("\n", found));
    }

    [Fact]
    public void TheScan_FindsTheKnownScalarMakersInTorchSharp()
    {
        // Without this the test above could pass by finding nothing at all.
        var risky = ScalarMakers(typeof(torch).Assembly.Location);
        Assert.Contains("Tensor::add/1", risky);      // add(Tensor) calls add(Tensor, 1)
        Assert.Contains("Tensor::square/0", risky);   // pow(2)
        Assert.Contains("Tensor::op_Multiply/2", risky);
        Assert.Contains("functional::elu/3", risky);  // through Tensor.elu, one call deeper
        Assert.DoesNotContain("Tensor::add/2", risky); // the explicit-alpha overloads are safe
        Assert.DoesNotContain("Tensor::mul/1", risky);

        // And it reports the call sites of TorchSharp's own code that make Scalars, with a source line when there is a PDB.
        var inTorchSharp = Scan(typeof(torch).Assembly.Location, risky);
        Assert.Contains(inTorchSharp, line => line.Contains("Tensor::add(") && line.Contains("Scalar"));
    }

    /// <summary>TorchSharp methods (<c>Type::name/parameters</c>) that convert a value to a Scalar, in their own body or
    /// in a TorchSharp method they call (followed to any depth).</summary>
    static HashSet<string> ScalarMakers(string torchSharp)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var callers = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);   // callee → methods that call it
        using var pe = new PEReader(File.OpenRead(torchSharp));
        var md = pe.GetMetadataReader();
        foreach (var (type, method, _) in Methods(md))
        {
            var name = $"{type}::{md.GetString(method.Name)}/{ParameterCount(md, method.Signature)}";
            foreach (var (target, _) in Calls(pe, md, method))
            {
                if (IsImplicitScalar(md, target)) result.Add(name);
                else if (target.Kind == HandleKind.MethodDefinition)
                {
                    var callee = md.GetMethodDefinition((MethodDefinitionHandle)target);
                    var key = $"{md.GetString(md.GetTypeDefinition(callee.GetDeclaringType()).Name)}::{md.GetString(callee.Name)}/{ParameterCount(md, callee.Signature)}";
                    if (!callers.TryGetValue(key, out var set)) callers[key] = set = new HashSet<string>(StringComparer.Ordinal);
                    set.Add(name);
                }
            }
        }
        var pending = new Queue<string>(result);
        while (pending.TryDequeue(out var maker))
            foreach (var caller in callers.GetValueOrDefault(maker) ?? [])
                if (result.Add(caller)) pending.Enqueue(caller);
        return result;
    }

    /// <summary>Call sites in <paramref name="assembly"/> that make an implicit Scalar, as readable lines.</summary>
    static List<string> Scan(string assembly, HashSet<string> risky)
    {
        var found = new List<string>();
        using var pe = new PEReader(File.OpenRead(assembly));
        var md = pe.GetMetadataReader();
        var pdbPath = Path.ChangeExtension(assembly, ".pdb");
        using var pdbProvider = File.Exists(pdbPath) ? MetadataReaderProvider.FromPortablePdbStream(File.OpenRead(pdbPath)) : null;
        var pdb = pdbProvider?.GetMetadataReader();
        foreach (var (type, method, handle) in Methods(md))
            foreach (var (target, offset) in Calls(pe, md, method))
            {
                string? what = IsImplicitScalar(md, target) ? "converts a value to Scalar"
                    : CalledName(md, target) is { } called && risky.Contains(called) ? $"calls {called}, which makes a Scalar" : null;
                if (what is not null)
                    found.Add($"{type}::{md.GetString(method.Name)}({SourceLine(pdb, handle, offset)}) {what}");
            }
        return found;
    }

    static IEnumerable<(string Type, MethodDefinition Method, MethodDefinitionHandle Handle)> Methods(MetadataReader md)
    {
        foreach (var th in md.TypeDefinitions)
        {
            var t = md.GetTypeDefinition(th);
            var name = md.GetString(t.Name);
            // A lambda's closure class goes by the type it was written in ("Tensor", as a call names its parent).
            for (var outer = t.GetDeclaringType(); name.StartsWith('<') && !outer.IsNil; outer = md.GetTypeDefinition(outer).GetDeclaringType())
                name = md.GetString(md.GetTypeDefinition(outer).Name);
            foreach (var mh in t.GetMethods())
                yield return (name, md.GetMethodDefinition(mh), mh);
        }
    }

    static readonly Dictionary<ushort, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(op => (ushort)op.Value);

    /// <summary>The methods a body calls (call, callvirt, newobj, ldftn), with the IL offset of each call.</summary>
    static IEnumerable<(EntityHandle Target, int Offset)> Calls(PEReader pe, MetadataReader md, MethodDefinition method)
    {
        if (method.RelativeVirtualAddress == 0) yield break;
        var il = pe.GetMethodBody(method.RelativeVirtualAddress).GetILReader();
        while (il.RemainingBytes > 0)
        {
            var offset = il.Offset;
            ushort code = il.ReadByte();
            if (code == 0xFE) code = (ushort)(0xFE00 | il.ReadByte());
            switch (OpCodesByValue[code].OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: il.ReadByte(); break;
                case OperandType.InlineVar: il.ReadUInt16(); break;
                case OperandType.InlineI8 or OperandType.InlineR: il.ReadInt64(); break;
                case OperandType.InlineSwitch:
                    var n = il.ReadInt32();
                    for (var i = 0; i < n; i++) il.ReadInt32();
                    break;
                case OperandType.InlineMethod:
                    yield return (MetadataTokens.EntityHandle(il.ReadInt32()), offset);
                    break;
                default: il.ReadInt32(); break;
            }
        }
    }

    static bool IsImplicitScalar(MetadataReader md, EntityHandle target) => target.Kind switch
    {
        HandleKind.MethodDefinition => md.GetMethodDefinition((MethodDefinitionHandle)target) is var m
            && md.GetString(m.Name) == "op_Implicit" && md.GetString(md.GetTypeDefinition(m.GetDeclaringType()).Name) == "Scalar",
        HandleKind.MemberReference => md.GetMemberReference((MemberReferenceHandle)target) is var r
            && md.GetString(r.Name) == "op_Implicit" && TypeName(md, r.Parent) == "Scalar",
        _ => false,
    };

    /// <summary><c>Type::name/parameters</c> of a method in another assembly, as <see cref="ScalarMakers"/> names them.</summary>
    static string? CalledName(MetadataReader md, EntityHandle target)
    {
        if (target.Kind != HandleKind.MemberReference) return null;
        var r = md.GetMemberReference((MemberReferenceHandle)target);
        if (r.GetKind() != MemberReferenceKind.Method) return null;
        return $"{TypeName(md, r.Parent)}::{md.GetString(r.Name)}/{ParameterCount(md, r.Signature)}";
    }

    static string TypeName(MetadataReader md, EntityHandle type) => type.Kind switch
    {
        HandleKind.TypeReference => md.GetString(md.GetTypeReference((TypeReferenceHandle)type).Name),
        HandleKind.TypeDefinition => md.GetString(md.GetTypeDefinition((TypeDefinitionHandle)type).Name),
        _ => "?",
    };

    static int ParameterCount(MetadataReader md, BlobHandle signature)
    {
        var blob = md.GetBlobReader(signature);
        if (blob.ReadSignatureHeader().IsGeneric) blob.ReadCompressedInteger();
        return blob.ReadCompressedInteger();
    }

    static string SourceLine(MetadataReader? pdb, MethodDefinitionHandle method, int offset)
    {
        if (pdb is null) return "no PDB";
        SequencePoint? last = null;
        foreach (var point in pdb.GetMethodDebugInformation(method).GetSequencePoints())
            if (!point.IsHidden && point.Offset <= offset) last = point;
        return last is { } p ? $"{Path.GetFileName(pdb.GetString(pdb.GetDocument(p.Document).Name))}:{p.StartLine}" : "no line";
    }
}
