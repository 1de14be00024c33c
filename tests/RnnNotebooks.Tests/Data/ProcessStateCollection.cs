namespace RnnNotebooks.Tests.Data;

/// <summary>
/// Tests that change process-wide state (environment variables, the working directory) run one at a time in
/// this collection, and never alongside other collections.
/// </summary>
[CollectionDefinition("ProcessState", DisableParallelization = true)]
public sealed class ProcessStateCollection;
