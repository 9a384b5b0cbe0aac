using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>An expression failed on a record: a JavaScript error it threw, or a limit it hit.</summary>
public sealed class ExpressionException(string message) : RecordException(message);
