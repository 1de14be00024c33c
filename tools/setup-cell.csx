// Setup: the same cell opens every notebook. Build the library first (dotnet build), and restart the
// kernel after rebuilding it: a loaded DLL stays loaded.
#r "nuget: TorchSharp-cpu, 0.107.0"
#r "nuget: Plotly.NET.Interactive, 6.0.0"
#r "nuget: Plotly.NET.CSharp, 0.14.0"
#r "../artifacts/bin/RnnNotebooks/debug/RnnNotebooks.dll"
using System.IO;
using TorchSharp;
using static TorchSharp.torch;
using RnnNotebooks;
using RnnNotebooks.Data;
using RnnNotebooks.Notebook;
using static RnnNotebooks.Notebook.Host;
using RnnNotebooks.Training;
var session = Course.Setup(seed: 42);
Show(session);
