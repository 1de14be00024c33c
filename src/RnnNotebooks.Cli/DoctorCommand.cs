using System.CommandLine;
using RnnNotebooks.Cli.Doctor;
using RnnNotebooks.Notebook;

namespace RnnNotebooks.Cli;

/// <summary><c>rnn doctor</c>: can this machine run the course? One line per check with its fix; exit 1 when it cannot.
/// <c>rnn env</c>, which showed part of this before, is now a short alias of <c>rnn doctor --no-run</c>.</summary>
static class DoctorCommand
{
    public static Command Build()
    {
        var noRun = CliOptions.Flag("--no-run", "skip the last check, running notebook 00 in quick mode (about a minute)");
        var command = new Command("doctor", "Check that this machine can run the course: platform, C/C++ runtimes, library, packages, kernels, datasets, disk, notebook 00.")
        {
            noRun,
        };
        command.SetAction(p => Run(runNotebook: !p.GetValue(noRun)));
        return command;
    }

    /// <summary><c>rnn env</c>: kept so that scripts and habits from before <c>rnn doctor</c> keep working.</summary>
    public static Command BuildEnvAlias()
    {
        var command = new Command("env", "Same as rnn doctor --no-run: every check but the run of notebook 00.");
        command.SetAction(_ => Run(runNotebook: false));
        return command;
    }

    /// <summary>True for the commands that load TorchSharp themselves, as one of their checks, so that a machine where it
    /// cannot load still gets every other check.</summary>
    public static bool LoadsTorchItself(Command command) => command.Name is "doctor" or "env";

    static int Run(bool runNotebook) =>
        Run(DoctorProbes.ForThisMachine(Course.FindRepoRoot(), line => Console.Error.WriteLine("      " + line)), runNotebook, Console.Out);

    /// <summary>Prints every check and the summary to <paramref name="output"/>; returns 1 when a check failed, else 0.</summary>
    internal static int Run(DoctorProbes probes, bool runNotebook, TextWriter output)
    {
        output.WriteLine($"rnn doctor: {probes.RepoRoot} on {Environment.OSVersion}, .NET {Environment.Version}");
        var checks = Checkup.Run(probes, runNotebook, check => output.WriteLine(check));
        output.WriteLine(Checkup.Summary(checks));
        return checks.Any(c => c.Status == CheckStatus.Fail) ? 1 : 0;
    }
}
