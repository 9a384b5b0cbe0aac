using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps;

/// <summary>A compiled step: turns the records of one chunk into its output records. Thread-safe.</summary>
public interface IStep
{
    IAsyncEnumerable<Record> ExecuteAsync(IAsyncEnumerable<Record> input, StepContext context, CancellationToken cancellationToken);
}

/// <summary>A step that maps each record to at most one record, synchronously.</summary>
public abstract class PerRecordStep : IStep
{
    /// <returns>The output record, or null to drop the record.</returns>
    protected abstract Record? Apply(Record record);

    public async IAsyncEnumerable<Record> ExecuteAsync(
        IAsyncEnumerable<Record> input,
        StepContext context,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long number = 0;
        await foreach (var record in input.WithCancellation(cancellationToken))
        {
            number++;
            Record? output;
            try
            {
                output = Apply(record);
            }
            catch (RecordException error) when (error is not RecordFailedException)
            {
                throw new RecordFailedException(number, record, error);
            }
            if (output is not null)
            {
                yield return output;
            }
        }
    }
}
