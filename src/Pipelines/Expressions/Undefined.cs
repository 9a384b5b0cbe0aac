namespace Saas.Pipelines.Expressions;

/// <summary>JavaScript's <c>undefined</c> inside the compiled tier; records only ever see <c>null</c>.</summary>
internal sealed class Undefined
{
    public static readonly Undefined Value = new();

    private Undefined() { }

    public override string ToString() => "undefined";
}

/// <summary>What an optional chain (<c>a?.b</c>) yields inside the chain once it has short-circuited.</summary>
internal sealed class ShortCircuit
{
    public static readonly ShortCircuit Value = new();

    private ShortCircuit() { }
}

/// <summary>
/// Thrown inside the compiled tier when a record takes it off the path it handles exactly (an error, an
/// unusual type, a huge result). The expression is pure, so the interpreter re-runs it from the start and
/// its answer, value or error, is the answer.
/// </summary>
internal sealed class InterpreterRequiredException() : Exception("The compiled tier defers this record to the interpreter.");
