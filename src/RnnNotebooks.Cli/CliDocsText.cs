namespace RnnNotebooks.Cli;

/// <summary>The hand-written parts of docs/cli.md: what the option tables cannot say.</summary>
static class CliDocsText
{
    public const string Preamble = """
        # The `rnn` command line

        Inside the repository `rnn` is `dotnet run --project src/RnnNotebooks.Cli --`. `rnn` alone, `rnn -h` or `rnn --help`
        lists the commands; every command and subcommand takes `-h`/`--help`, which prints its usage and exits with 0
        without starting anything. A usage mistake (an unknown command or option, a value out of range) names the option
        and exits with 2; a runtime error (a missing file, bad data) says what went wrong and exits with 1.

        **Training into a folder that already holds a model** (`lm`, `translate`, `caption` and `asr train`; every
        model of `asr train --ensemble` in its own folder, all of them checked before any trains): a checkpoint trained with
        the same options (the budget — `--minutes`, `--epochs`, `--threads` — aside) is resumed, so running the same command
        again continues it; any other checkpoint is left untouched and the command stops with exit code 1, saying what differs.
        Then choose: `--resume` continues that checkpoint anyway (its model keeps the saved shape), `--force` starts over and
        replaces it, or give another `--out`. The options of a run are saved with its checkpoint (`training-options.json`).

        **A checkpoint folder** holds `checkpoint.json` and the files it lists: the weights, the optimizer state, the model's
        configuration and vocabularies (`lm.json`, `asr.json`, `translator.json`, `captioner.json`, `*-vocab.json`) and the run's
        options, each stored under its name with part of its SHA-256 added (`asr.1f2e3d4c5b6a7980.json`). A save writes the new
        files first and `checkpoint.json` last, so an interrupted save (a full disk, a crash) leaves the previous model whole.
        Copy or move the whole folder; a file changed by hand no longer matches its hash and is refused.

        **Ctrl-C** during training stops after the current step, saves the checkpoint, says so on stderr and exits with 130,
        printing no result on stdout (a result there means a finished run); run the same command to continue. A second Ctrl-C
        quits at once, leaving the last saved checkpoint as it was.

        Numbers are read the invariant way (`0.5`, not `0,5`) and must be finite; `--threads` is 0 (automatic, the default)
        or 1 up to the number of cores.

        This page is generated from the commands themselves (`rnn docs cli --out docs/cli.md`); a test fails when it differs
        from them. Results of these commands, with the exact invocations, are in [results.md](results.md).

        """;

    /// <summary>A paragraph under a command's heading, by command name.</summary>
    public static readonly IReadOnlyDictionary<string, string> Notes = new Dictionary<string, string>
    {
        ["doctor"] = """
            Run it first on a new machine. One line per check, `ok`, `warn` or `FAIL`, each failure or warning with its fix:
            the platform against the ones TorchSharp-cpu 0.107.0 ships libtorch for (linux-x64, win-x64, osx-arm64), glibc
            and libstdc++ against what TorchSharp's native library needs (Linux), TorchSharp loading and computing, memory,
            the library where the notebooks load it (`artifacts/bin/RnnNotebooks/debug/RnnNotebooks.dll`), the NuGet cache
            (the notebooks' packages there, or the folder writable), dotnet-repl and the Jupyter kernel (dotnet-interactive
            1.0.712001), every dataset (present and matching its SHA-256, or its source reachable), disk space, and last
            notebook 00 in quick mode (as `rnn course --quick 00`; its executed copy goes to `artifacts/doctor/`). Exits with
            1 when a check failed, 0 otherwise (warnings included). `rnn env` is the same as `rnn doctor --no-run`.
            [setup](setup.md) lists the supported platforms and what to do on the others.
            """,
        ["course"] = """
            Runs the lessons headless (all, or the named ones: `00`, `01-vanilla-rnn`, …) and writes `artifacts/results.md`
            and `artifacts/results.json`; executed copies go to `artifacts/notebooks/` (or `--out DIR`). `--host notebook` (the
            default) executes `notebooks/NN-name.ipynb` with dotnet-repl; `--host app` runs the lesson's file-based app
            `notebooks/NN-name.cs` with `dotnet run` and keeps what it printed as `NN-name.app.log`. `--quick` is the CI-sized
            run (`RNN_QUICK=1`), `--full` forces full mode even when `RNN_QUICK` is set; `--no-build` skips building the library
            first. Exits with 1 if a lesson failed.

            `--prepare DIR` runs, in full mode, the lessons whose training cell can load a prepared model (all of them, or the
            named ones) and saves each model into `DIR/NAME/`, for `RNN_PRETRAINED=DIR` ([teaching](teaching.md#results-without-the-wait)).
            A model already in DIR is kept and nothing runs, unless `--force` is given.

            `--grade SUBMISSIONS_DIR` marks students' work instead: SUBMISSIONS_DIR holds one folder per student, named
            after the student, with the notebooks they hand in (`alice/00-getting-started.ipynb`, matched to a lesson by its
            number). Each runs in quick mode from `notebooks/`, as in the student's own checkout, and its exercise checks'
            verdicts go to a CSV (`--out FILE`, default `artifacts/grading/grades.csv`): `student,lesson,exercise,verdict,detail`,
            a verdict being `right`, `wrong` (the detail says what the check found) or `not-answered`; a notebook that fails
            to run gets a `(notebook),failed` row with its first error, checks that never ran a `(missing),not-run` row, and
            each student a closing `(all),(total)` row, e.g. `3 of 5 right`. Executed copies and logs go to
            `artifacts/grading/<student>/`. A missing folder, or one without submissions, is a usage error (exit 2); a
            student's failing notebook is a grade, not an error (exit 0). Lesson arguments limit the grading to those lessons.
            The submissions are code: grade where running it is acceptable.
            """,
        ["notebooks"] = """
            `build` writes every lesson's notebook and app (`notebooks/NN-name.ipynb` and `.cs`) from its source in
            `tools/notebook-sources/` ([authoring](authoring.md#the-lesson-sources)); only files that changed are written.
            `--check` writes nothing and exits with 1, naming the files, when a committed notebook or app is stale.
            `--solutions --out DIR` writes the instructor edition instead: every lesson's notebook and app with each
            exercise's `%% solution` cell in place of its `// TODO:` stub, referring to this checkout's library from DIR. It
            is for teachers and never committed; `notebooks/` is refused as DIR.
            """,
        ["data"] = """
            `list` shows each dataset, whether it is present, where, and its licence; `verify` checks every file against the
            SHA-256 in `data/manifests/`; `fetch` downloads into the user cache, checking as it goes (`fetch --all`: every
            dataset).
            """,
        ["pack"] = """
            Writes an offline pack for a classroom without internet ([offline classroom](offline.md)): the datasets, each
            file checked against its SHA-256; a local NuGet feed with every package the solution's restore and the notebooks'
            `#r "nuget: …"` lines use, and the notebook tools; lesson 06's cached image features when there are any; a
            `nuget.config`, `README.txt` with the steps for the lab machines, `pack.json` and `SHA256SUMS`. Everything is
            taken from this machine: when something is missing, nothing is written and each missing piece is named with the
            command that gets it. The pack is built beside `DIR` and renamed into place. On a lab machine, `RNN_PACK=DIR`
            makes the course read the datasets and features from it and restore NuGet packages from its feed only.
            """,
        ["lm"] = """
            Lesson 03's language models. `--level` defaults to `word` for `ptb`, `char` otherwise, and the defaults of the
            model's size and training follow the level.
            """,
        ["translate"] = "Lesson 04's encoder–decoder translators; `eval` prints corpus BLEU on a split.",
        ["metrics"] = "`bleu` takes one line per hypothesis in every file, in the same order.",
        ["asr"] = """
            Lesson 05's speech recognizer over FSDD connected-digit strings. `rnn asr adapt` adapts the model to the voice of
            the files, no transcripts needed, and saves it to another folder: transcribe that voice's further recordings with
            `--checkpoint` of that folder at the unadapted model's speed. A folder that already holds a model is left alone
            unless `--force` is given.
            """,
        ["caption"] = """
            Lesson 06's captioner: cache ResNet-18 features of Flickr8k (`train` extracts them first if needed), train
            Show-Attend-and-Tell, BLEU-1..4 on a split, caption photos. With several `--checkpoint`s the models decode as an
            ensemble, averaging their word probabilities.
            """,
        ["bench"] = """
            Writes [benchmarks.md](benchmarks.md) (a `--tiny` or `--only` run writes nothing unless `--out` is given).
            `--tiny --no-pytorch` is the seconds-long version a test runs; `--note` records the machine's state in the report;
            `bench/setup.sh` installs the PyTorch reference.
            """,
    };
}
