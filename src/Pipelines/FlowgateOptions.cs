using System.ComponentModel.DataAnnotations;

namespace Saas.Pipelines;

/// <summary>Configuration section <c>Flowgate</c>.</summary>
public sealed class FlowgateOptions
{
    public const string Section = "Flowgate";

    /// <summary>Where the embedded defaults keep the database and blobs. Relative paths are under the content root.</summary>
    [Required]
    public string DataDirectory { get; set; } = "data";

    public RuntimeOptions Runtime { get; set; } = new();
}

/// <summary>Configuration section <c>Flowgate:Runtime</c>: the workers that execute steps.</summary>
public sealed class RuntimeOptions
{
    /// <summary>Runs the workers, scheduler and queue pump inside this process.</summary>
    public bool Embedded { get; set; } = true;

    /// <summary>Work items executing at once. Workers mostly wait for commits, so this is well above the core count.</summary>
    [Range(1, 256)]
    public int Workers { get; set; } = 32;

    /// <summary>How long a worker owns a work item before another may take it over.</summary>
    [Range(1, 3600)]
    public int LeaseSeconds { get; set; } = 30;

    [Range(10, 60_000)]
    public int PollIntervalMilliseconds { get; set; } = 500;

    /// <summary>
    /// How long a worker may go on executing the next steps of a chunk before committing: steps that
    /// finish within it commit together, in one transaction. A crash re-executes at most this much.
    /// </summary>
    [Range(0, 60_000)]
    public int UncommittedChainMilliseconds { get; set; } = 50;

    /// <summary>
    /// The most a step may make of one record, serialized as JSON: an enrichment that explodes a record
    /// fails the run instead of filling memory and storage.
    /// </summary>
    [Range(1_024, int.MaxValue)]
    public int MaxRecordBytes { get; set; } = 1024 * 1024;

    /// <summary>The first retry waits about this long; each further attempt doubles it (with jitter).</summary>
    [Range(1, 600_000)]
    public int RetryBaseDelayMilliseconds { get; set; } = 1_000;
}
