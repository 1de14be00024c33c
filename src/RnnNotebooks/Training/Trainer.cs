using System.Diagnostics;
using RnnNotebooks.Platform;
using TorchSharp;
using static TorchSharp.torch;

namespace RnnNotebooks.Training;

/// <summary>The training loop every lesson uses: any model, any batch type, one loss function.</summary>
/// <remarks>
/// Each step opens a dispose scope, asks the loss function for a scalar loss, runs
/// <c>zero_grad → backward → clip_grad_norm_ (optional) → step</c>, reads the loss once, and disposes every
/// tensor the step created, so the number of live tensors stays flat however long it runs. Between epochs (at most
/// every 5 s) and at the end it hands the C heap's freed pages back to the system (<see cref="NativeHeap.Trim"/>).
/// <para>Exact resume (<c>resume:</c> a state from <see cref="Checkpoint.Load"/>) needs the batch factory to
/// give the same batches for the same epoch index: shuffle with <c>Seeds.CreateRandom(epoch)</c>, not with a
/// stream whose position depends on what ran before. The batches already trained in a half-done epoch are
/// drawn again and skipped.</para>
/// Introduced in 00-getting-started.
/// </remarks>
public static class Trainer
{
    /// <summary>
    /// Trains until all <see cref="TrainerOptions.Epochs"/> ran or a limit is hit, and returns where it
    /// stopped. A limit (time budget, max steps, cancellation, a non-finite loss) ends training after the
    /// current batch without throwing; <see cref="TrainingHistory.StopReason"/> says which.
    /// </summary>
    /// <typeparam name="TBatch">Whatever one batch is: a tuple of tensors, a record, indices…</typeparam>
    /// <param name="model">Switched to train mode (eval mode during validation); its parameters are clipped.</param>
    /// <param name="optimizer">Steps the model's parameters.</param>
    /// <param name="batches">The batches of one epoch, given its 0-based index. Tensors created while
    /// enumerating are disposed after their batch; tensors created by the call itself, after the epoch.</param>
    /// <param name="loss">A scalar loss for a batch (graph attached); the trainer does the backward pass.</param>
    /// <param name="options">Epochs, clipping and limits.</param>
    /// <param name="tokens">Tokens (or samples) in a batch, for throughput.</param>
    /// <param name="validate">Run at each epoch end under <c>no_grad</c> and eval mode; its metrics are
    /// recorded next to <c>train_loss</c>.</param>
    /// <param name="progress">Called every <see cref="TrainerOptions.LogEvery"/> steps, at every epoch end
    /// and once more when training stops early.</param>
    /// <param name="resume">Continue from this state (the model and optimizer must hold its weights).</param>
    /// <param name="cancellationToken">Stops training after the current batch.</param>
    /// <param name="hooks">Run in order at every epoch end (after <paramref name="validate"/>) and once when training
    /// stops: keeping the best weights, reducing the learning rate, saving (<see cref="IEpochHook"/>).</param>
    public static TrainingState Fit<TBatch>(
        nn.Module model,
        optim.Optimizer optimizer,
        Func<int, IEnumerable<TBatch>> batches,
        Func<TBatch, Tensor> loss,
        TrainerOptions options,
        Func<TBatch, long>? tokens = null,
        Func<IReadOnlyDictionary<string, double>>? validate = null,
        Action<TrainingProgress>? progress = null,
        TrainingState? resume = null,
        CancellationToken cancellationToken = default,
        IReadOnlyList<IEpochHook>? hooks = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (resume is not null && resume.History.Losses.Count != resume.Step)
            throw new ArgumentException(
                $"The resume state says {resume.Step} steps were taken but its history holds {resume.History.Losses.Count} " +
                "losses; it was not produced by Trainer.Fit or Checkpoint.Load.", nameof(resume));

        var run = new Run<TBatch>(model, optimizer, batches, loss, options, tokens, validate, progress,
            resume ?? TrainingState.Start(options), cancellationToken, hooks ?? []);
        return run.Execute();
    }

    sealed class Run<TBatch>(
        nn.Module model,
        optim.Optimizer optimizer,
        Func<int, IEnumerable<TBatch>> batches,
        Func<TBatch, Tensor> lossFn,
        TrainerOptions options,
        Func<TBatch, long>? tokenCount,
        Func<IReadOnlyDictionary<string, double>>? validate,
        Action<TrainingProgress>? progress,
        TrainingState start,
        CancellationToken cancellationToken,
        IReadOnlyList<IEpochHook> hooks)
    {
        readonly List<double> losses = [.. start.History.Losses];
        readonly List<double> gradNorms = [.. start.History.GradNorms];
        readonly List<long> tokenCounts = [.. start.History.Tokens];
        readonly List<double> stepSeconds = [.. start.History.StepSeconds];
        readonly List<EpochSummary> epochs = [.. start.History.Epochs];
        readonly Stopwatch clock = Stopwatch.StartNew();
        readonly long sessionStartStep = start.Step;

        int epoch = start.Epoch;
        int batchInEpoch = start.BatchInEpoch;
        long step = start.Step;
        long? batchesPerEpoch = start.History.Epochs.Count > 0 ? start.History.Epochs[0].Step : null;
        IReadOnlyDictionary<string, double> lastMetrics =
            start.History.Epochs.LastOrDefault()?.Metrics ?? new Dictionary<string, double>();

        static readonly TimeSpan ReleaseEvery = TimeSpan.FromSeconds(5);
        TimeSpan lastRelease;

        double windowLoss;
        int windowSteps;
        long windowTokens;
        double windowStart;

        double Elapsed => start.ElapsedSeconds + clock.Elapsed.TotalSeconds;

        bool threadsChosen;

        public TrainingState Execute()
        {
            var parameters = model.parameters().ToList();
            windowStart = Elapsed;
            (StopReason Reason, string Message)? stop = null;
            model.train();

            while (epoch < options.Epochs && (stop = CheckLimits()) is null)
            {
                stop = TrainEpoch(parameters);
                ReleaseFreedMemory(force: false);
                if (stop is not null) break;
            }

            if (epoch >= options.Epochs) stop = null;
            var (reason, message) = stop ?? (StopReason.Completed,
                $"Completed {options.Epochs} epochs ({step} steps) in {Elapsed:0.0} s of training.");
            if (stop is not null && windowSteps > 0) ReportWindow();

            var final = State(reason, message);
            using (torch.NewDisposeScope())
                foreach (var hook in hooks) hook.OnTrainingEnd(final);
            // After the hooks, as at an epoch's end: the trim walks every arena of the C heap, where glibc aborts if a
            // native library damaged one; the checkpoint a hook saves must already be on disk then.
            ReleaseFreedMemory(force: true);
            return final;
        }

        TrainingState State(StopReason reason, string message)
        {
            var history = new TrainingHistory([.. losses], [.. gradNorms], [.. tokenCounts], [.. stepSeconds], [.. epochs], reason, message);
            return new TrainingState(epoch, batchInEpoch, step, Elapsed, start.Seed, options, history);
        }

        /// <summary>One epoch, or what is left of it: the reason training must stop, or null to go on.</summary>
        (StopReason, string)? TrainEpoch(List<TorchSharp.Modules.Parameter> parameters)
        {
            (StopReason Reason, string Message)? stop = null;
            using var epochScope = torch.NewDisposeScope();
            var epochBatches = batches(epoch);
            long? knownCount = epochBatches.TryGetNonEnumeratedCount(out var n) ? n : null;
            batchesPerEpoch = knownCount ?? batchesPerEpoch;
            using var enumerator = epochBatches.GetEnumerator();
            SkipTrainedBatches(enumerator);

            var epochDone = false;
            while (!epochDone)
            {
                if ((stop = CheckLimits()) is not null)
                {
                    epochDone = knownCount is null && batchInEpoch > 0 && IsExhausted(enumerator);
                    break;
                }
                var result = TrainOneBatch(enumerator, parameters);
                if (result is null)
                {
                    epochDone = true;
                    break;
                }
                var (lossValue, norm, batchTokens) = result.Value;
                if (!double.IsFinite(lossValue) && options.StopOnNonFiniteLoss)
                {
                    stop = (StopReason.NonFiniteLoss,
                        $"Stopped at step {step + 1} (epoch {epoch + 1} of {options.Epochs}): the loss was {lossValue}. " +
                        "That update was not applied; lower the learning rate or set ClipGradNorm.");
                    break;
                }
                Record(lossValue, norm, batchTokens);
                if (options.LogEvery > 0 && step % options.LogEvery == 0) ReportWindow();
                epochDone = knownCount == batchInEpoch;
            }

            if (epochDone) FinishEpoch();
            return stop;
        }

        /// <summary>Hands the C heap's free pages back to the system (<see cref="NativeHeap.Trim"/>) once the epoch's
        /// tensors are gone: at most every few seconds between epochs (tiny epochs would pay for it more than they gain),
        /// and always when training ends. Without it a long run's resident memory creeps up although nothing leaks.</summary>
        void ReleaseFreedMemory(bool force)
        {
            if (!force && clock.Elapsed - lastRelease < ReleaseEvery) return;
            NativeHeap.Trim();
            lastRelease = clock.Elapsed;
        }

        (StopReason, string)? CheckLimits()
        {
            var where = $"epoch {epoch + 1} of {options.Epochs}, batch {batchInEpoch}";
            if (cancellationToken.IsCancellationRequested)
                return (StopReason.Cancelled, $"Cancelled at step {step} ({where}).");
            if (options.MaxSteps is { } max && step >= max)
                return (StopReason.MaxSteps, $"Stopped at step {step}: MaxSteps = {max} reached ({where}).");
            if (options.TimeBudget is { } budget && clock.Elapsed >= budget)
                return (StopReason.TimeBudget,
                    $"Stopped early at step {step} after {clock.Elapsed.TotalSeconds:0.0} s: the time budget of " +
                    $"{budget.TotalSeconds:0.#} s ran out ({where}). Save a checkpoint and resume to continue.");
            return null;
        }

        /// <summary>
        /// Whether a stopped epoch had in fact no batches left, so it can be finished (validated, summarised)
        /// now. Costs building one batch, which a resumed run builds again.
        /// </summary>
        static bool IsExhausted(IEnumerator<TBatch> enumerator)
        {
            using var scope = torch.NewDisposeScope();
            return !enumerator.MoveNext();
        }

        void SkipTrainedBatches(IEnumerator<TBatch> enumerator)
        {
            for (var i = 0; i < batchInEpoch; i++)
            {
                using var scope = torch.NewDisposeScope();
                if (!enumerator.MoveNext())
                    throw new InvalidOperationException(
                        $"Cannot resume: epoch {epoch + 1} now has {i} batches, but {batchInEpoch} of them were already " +
                        "trained. The batch factory must give the same batches for the same epoch as in the saved run.");
            }
        }

        /// <summary>One optimizer step, or null when the epoch has no more batches.</summary>
        (double Loss, double? Norm, long? Tokens)? TrainOneBatch(IEnumerator<TBatch> enumerator, List<TorchSharp.Modules.Parameter> parameters)
        {
            using var scope = torch.NewDisposeScope();
            if (!enumerator.MoveNext()) return null;
            var batch = enumerator.Current;
            long? batchTokens = tokenCount?.Invoke(batch);
            if (batchTokens is { } t && !threadsChosen)
            {
                Threads.ForTraining(model, t);
                threadsChosen = true;
            }

            optimizer.zero_grad();
            var lossTensor = lossFn(batch);
            if (lossTensor.numel() != 1)
                throw new ArgumentException(
                    $"The loss function returned a tensor of shape [{string.Join(", ", lossTensor.shape)}]; expected a " +
                    "scalar. Reduce it, e.g. with .mean().");
            var lossValue = lossTensor.ToDouble();
            if (!double.IsFinite(lossValue) && options.StopOnNonFiniteLoss) return (lossValue, null, batchTokens);

            lossTensor.backward();
            double? norm = options.ClipGradNorm is { } maxNorm ? nn.utils.clip_grad_norm_(parameters, maxNorm) : null;
            options.BeforeStep?.Invoke(step);
            optimizer.step();
            options.AfterStep?.Invoke(step);
            return (lossValue, norm, batchTokens);
        }

        void Record(double lossValue, double? norm, long? batchTokens)
        {
            step++;
            batchInEpoch++;
            losses.Add(lossValue);
            if (norm is { } g) gradNorms.Add(g);
            if (batchTokens is { } t) tokenCounts.Add(t);
            stepSeconds.Add(Elapsed);
            windowLoss += lossValue;
            windowSteps++;
            windowTokens += batchTokens ?? 0;
        }

        void FinishEpoch()
        {
            var epochStartStep = (int)(step - batchInEpoch);
            var epochStartSeconds = epochs.Count > 0 ? epochs[^1].ElapsedSeconds : 0;
            var trainLoss = batchInEpoch > 0 ? losses.Skip(epochStartStep).Average() : double.NaN;
            var trainSeconds = (batchInEpoch > 0 ? stepSeconds[^1] : Elapsed) - epochStartSeconds;
            double? tokensPerSecond = tokenCount is not null && tokenCounts.Count == losses.Count && trainSeconds > 0
                ? tokenCounts.Skip(epochStartStep).Sum() / trainSeconds
                : null;

            var metrics = new Dictionary<string, double> { [TrainingHistory.TrainLossKey] = trainLoss };
            if (validate is not null)
            {
                model.eval();
                using (torch.no_grad())
                using (torch.NewDisposeScope())
                {
                    foreach (var (key, value) in validate()) metrics[key] = value;
                }
                model.train();
            }

            var elapsed = Elapsed;
            epochs.Add(new EpochSummary(epoch + 1, step, trainLoss, elapsed - epochStartSeconds, elapsed, tokensPerSecond, metrics));
            lastMetrics = metrics;
            batchesPerEpoch ??= batchInEpoch;
            Report(epoch + 1, trainLoss, tokensPerSecond);
            ResetWindow();
            epoch++;
            batchInEpoch = 0;
            if (hooks.Count == 0) return;
            // An epoch-end state: complete as far as this epoch goes, so a checkpoint of it resumes at the next one.
            var end = new EpochEnd(epochs[^1], State(StopReason.Completed, $"Completed epoch {epoch} of {options.Epochs} ({step} steps)."));
            using (torch.NewDisposeScope())
                foreach (var hook in hooks) hook.OnEpochEnd(end);
            model.train();
        }

        void ReportWindow()
        {
            var seconds = Elapsed - windowStart;
            double? tokensPerSecond = tokenCount is not null && seconds > 0 ? windowTokens / seconds : null;
            Report(Math.Min(epoch + 1, options.Epochs), windowLoss / windowSteps, tokensPerSecond);
            ResetWindow();
        }

        void ResetWindow()
        {
            windowLoss = 0;
            windowSteps = 0;
            windowTokens = 0;
            windowStart = Elapsed;
        }

        void Report(int epochNumber, double meanLoss, double? tokensPerSecond)
        {
            if (progress is null) return;
            var total = TotalSteps();
            var rate = (step - sessionStartStep) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
            TimeSpan? eta = total is { } t && rate > 0 ? TimeSpan.FromSeconds(Math.Max(0, t - step) / rate) : null;
            if (options.TimeBudget is { } budget)
            {
                var left = budget - clock.Elapsed;
                if (left < TimeSpan.Zero) left = TimeSpan.Zero;
                eta = eta is { } e && e < left ? e : left;
            }
            progress(new TrainingProgress(epochNumber, options.Epochs, step, total, meanLoss, tokensPerSecond,
                TimeSpan.FromSeconds(Elapsed), eta, lastMetrics));
        }

        long? TotalSteps()
        {
            long? planned = batchesPerEpoch * options.Epochs;
            return (planned, options.MaxSteps) switch
            {
                ({ } p, { } m) => Math.Min(p, m),
                ({ } p, null) => p,
                (null, { } m) => m,
                _ => null,
            };
        }
    }
}
