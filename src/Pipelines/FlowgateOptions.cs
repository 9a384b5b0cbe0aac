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

    public AiOptions Ai { get; set; } = new();

    public BlobsOptions Blobs { get; set; } = new();

    public QueueOptions Queue { get; set; } = new();

    public Storage.DatabaseOptions Database { get; set; } = new();
}

/// <summary>Configuration section <c>Flowgate:Ai</c>: model calls made by <c>llm</c> steps.</summary>
public sealed class AiOptions
{
    /// <summary>Model calls in flight at once for one tenant, across all its runs on this node.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentCallsPerTenant { get; set; } = 16;

    /// <summary>Model calls in flight at once to one provider of a tenant, so one slow provider cannot hold every slot.</summary>
    [Range(1, 1024)]
    public int MaxConcurrentCallsPerProvider { get; set; } = 8;

    /// <summary>Tries of one target on 429/5xx/timeouts before falling back to the next target of the alias.</summary>
    [Range(1, 10)]
    public int AttemptsPerTarget { get; set; } = 3;

    /// <summary>Longest wait for a provider's Retry-After; a longer one moves on to the next target.</summary>
    [Range(0, 600)]
    public int MaxRetryAfterSeconds { get; set; } = 30;

    /// <summary>Seconds one model call may take.</summary>
    [Range(1, 3600)]
    public int CallTimeoutSeconds { get; set; } = 120;
}

/// <summary>Configuration section <c>Flowgate:Blobs</c>; the Azure provider reads <c>ConnectionStrings:Blobs</c>.</summary>
public sealed class BlobsOptions
{
    public const string Folder = "folder";
    public const string Azure = "azure";

    /// <summary><c>folder</c> (files under the data directory) or <c>azure</c> (Azure Blob Storage).</summary>
    public string Provider { get; set; } = Folder;

    /// <summary>The one container holding every tenant's blobs under its tenant prefix (decision 014).</summary>
    public string Container { get; set; } = "flowgate";
}

/// <summary>Configuration section <c>Flowgate:Queue</c>; the Azure provider reads <c>ConnectionStrings:Queues</c>.</summary>
public sealed class QueueOptions
{
    public const string Sql = "sql";
    public const string AzureStorage = "azure-storage";

    /// <summary><c>sql</c> (the work_items table, leased by embedded workers) or <c>azure-storage</c> (relayed to a Storage queue, decision 015).</summary>
    public string Provider { get; set; } = Sql;

    /// <summary>The Storage queue that carries work items; its poison queue is this name with <c>-poison</c>.</summary>
    public string Name { get; set; } = "flowgate-work";

    /// <summary>Deliveries of one message before it is treated as poison: the run fails and the message moves to the poison queue.</summary>
    [Range(1, 100)]
    public int MaxDequeueCount { get; set; } = 5;
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

    /// <summary>
    /// The least threads the web host's thread pool keeps. The group-commit writer and the SQLite checkpoint each hold one
    /// for a batch or an fsync at a time, and the pool otherwise starts at one per core and grows slowly: under a flood,
    /// requests then waited in its queue (decision 027, session 9). Never lowers the runtime's own minimum.
    /// </summary>
    [Range(1, 1024)]
    public int MinThreads { get; set; } = 16;
}
