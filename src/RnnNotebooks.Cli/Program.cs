using RnnNotebooks.Cli;
using RnnNotebooks.Platform;

// Before anything starts a thread: signals (Ctrl-C above all) must reach the process through an idle thread, never by
// interrupting libtorch on this one or its workers. See ComputeSignals.
ComputeSignals.BlockOnThisThread();
return Cli.Run(args);
