using Saas.Pipelines.Expressions;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Expressions;

public sealed class ExpressionCompilerTests
{
    [Theory]
    [InlineData("record.qty * )", "Unexpected token ')' at 1:14")]
    [InlineData("record.qty *", "Unexpected end of input at 1:13")]
    [InlineData("record.qty +\n  )", "Unexpected token ')' at 2:3")]
    [InlineData("'abc", "Invalid or unexpected token at 1:1")]
    [InlineData("record.a ? b", "Unexpected end of input at 1:13")]
    public void Syntax_errors_carry_the_parser_message_and_a_one_based_position(string source, string expected)
    {
        var compiled = ExpressionCompiler.TryCompile(source, ExpressionLimits.Default, out var error);

        Assert.Null(compiled);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Several_statements_are_rejected_with_where_the_second_starts()
    {
        var compiled = ExpressionCompiler.TryCompile("record.a; record.b", ExpressionLimits.Default, out var error);

        Assert.Null(compiled);
        Assert.Equal("An expression must be a single JavaScript expression, but this is 2 statements; the second starts at 1:11.", error);
    }

    [Theory]
    [InlineData("let x = 1", "VariableDeclaration")]
    [InlineData("if (record.a) record.b", "IfStatement")]
    [InlineData("", "empty")]
    [InlineData("  // only a comment", "empty")]
    public void Statements_and_empty_sources_are_not_expressions(string source, string mentioned)
    {
        var compiled = ExpressionCompiler.TryCompile(source, ExpressionLimits.Default, out var error);

        Assert.Null(compiled);
        Assert.Contains(mentioned, error);
    }

    [Theory]
    [InlineData(10_000)]
    [InlineData(300)]
    public void Deeply_nested_expressions_are_rejected_instead_of_overflowing_the_stack(int depth)
    {
        var source = new string('(', depth) + "record.a" + new string(')', depth) + " + " + string.Join(" + ", Enumerable.Repeat("1", depth));

        var compiled = ExpressionCompiler.TryCompile(source, ExpressionLimits.Default, out var error);

        Assert.Null(compiled);
        Assert.Equal($"The expression nests deeper than {ExpressionCompiler.MaxNesting} levels.", error);
    }

    [Theory]
    [InlineData("record.qty * record.price")]
    [InlineData("record.country.toUpperCase()")]
    [InlineData("Number(record.amount) > 100 && record.status !== 'void'")]
    [InlineData("record.first + ' ' + record.last")]
    [InlineData("record.tags.length")]
    [InlineData("record.email ? record.email.toLowerCase() : null")]
    [InlineData("`${record.first} ${record.last}`")]
    [InlineData("Math.round(record.price * 100) / 100")]
    [InlineData("parseFloat(record.price)")]
    [InlineData("record.address?.city ?? 'unknown'")]
    [InlineData("['fr', 'de'].includes(record.country)")]
    [InlineData("record.qty // quantity")]
    public void Common_expressions_compile_to_dotnet_code(string source)
    {
        var compiled = Outcome.Compile(source);

        Assert.Equal(ExpressionTier.Compiled, compiled.Tier);
        Assert.Equal(source, compiled.Source);
    }

    [Theory]
    [InlineData("record.tags.map(t => t.toUpperCase()).join('|')")]
    [InlineData("JSON.stringify(record)")]
    [InlineData("new Date(record.ts).toISOString()")]
    [InlineData("/^[a-z]+$/.test(record.code)")]
    [InlineData("Object.keys(record).length")]
    [InlineData("record.hasOwnProperty('qty')")]
    [InlineData("record.constructor")]
    [InlineData("undeclared + 1")]
    [InlineData("(() => { let total = 0; for (const s of record.scores) total += s; return total; })()")]
    [InlineData("Math.cbrt(record.qty)")]
    public void Everything_else_runs_on_the_interpreter(string source)
    {
        Assert.Equal(ExpressionTier.Interpreted, Outcome.Compile(source).Tier);
    }

    [Fact]
    public void An_undeclared_identifier_is_a_ReferenceError_when_evaluated()
    {
        var compiled = Outcome.Compile("undeclared + 1");

        var error = Assert.Throws<ExpressionException>(() => compiled.Evaluate(new Record()));

        Assert.Equal("ReferenceError: undeclared is not defined", error.Message);
    }

    [Fact]
    public void A_runtime_TypeError_names_the_error_and_the_property()
    {
        var compiled = Outcome.Compile("record.email.toUpperCase()");

        var error = Assert.Throws<ExpressionException>(() => compiled.Evaluate(new Record()));

        Assert.StartsWith("TypeError: ", error.Message);
        Assert.Contains("'toUpperCase'", error.Message);
        Assert.Contains("undefined", error.Message);
    }

    [Theory]
    [InlineData("record.qty * record.price")]
    [InlineData("[record.qty, record.price].reduce((a, b) => a * b, 1)")]
    public void Results_are_record_values(string source)
    {
        var record = new Record { ["qty"] = 3d, ["price"] = "2.5" };

        Assert.Equal(7.5, Outcome.Compile(source).Evaluate(record));
    }

    [Theory]
    [InlineData("record.missing")]
    [InlineData("(() => record.missing)()")]
    [InlineData("undefined")]
    [InlineData("null")]
    public void Undefined_and_null_come_back_as_null(string source)
    {
        Assert.Null(Outcome.Compile(source).Evaluate(new Record()));
    }

    [Theory]
    [InlineData("record.a / 0", double.PositiveInfinity)]
    [InlineData("(() => 0 / 0)()", double.NaN)]
    [InlineData("-record.a / 0", double.NegativeInfinity)]
    public void NaN_and_infinities_stay_doubles(string source, double expected)
    {
        Assert.Equal(expected, Outcome.Compile(source).Evaluate(new Record { ["a"] = 1d }));
    }

    [Theory]
    [InlineData("({ total: record.a * 2, tags: ['x', record.a], none: record.missing })")]
    [InlineData("(() => ({ total: record.a * 2, tags: ['x', record.a], none: record.missing }))()")]
    public void Objects_and_arrays_come_back_as_records_and_lists(string source)
    {
        var result = Assert.IsType<Record>(Outcome.Compile(source).Evaluate(new Record { ["a"] = 2d }));

        Assert.Equal(["total", "tags", "none"], result.Keys);
        Assert.Equal(4d, result["total"]);
        Assert.Equal(new List<object?> { "x", 2d }, result["tags"]);
        Assert.Null(result["none"]);
    }

    [Fact]
    public void Dates_come_back_as_ISO_strings()
    {
        Assert.Equal("2024-03-01T12:30:00.000Z", Outcome.Compile("new Date(Date.UTC(2024, 2, 1, 12, 30))").Evaluate(new Record()));
    }

    [Theory]
    [InlineData("() => 1", "function")]
    [InlineData("Symbol('x')", "symbol")]
    [InlineData("(async () => 1)()", "Promise")]
    [InlineData("new Map()", "Map")]
    [InlineData("({ get total() { return 1; } })", "accessor property 'total'")]
    [InlineData("(() => { const a = {}; a.self = a; return a; })()", "nests deeper")]
    public void Results_a_record_cannot_hold_are_reported(string source, string mentioned)
    {
        var error = Assert.Throws<ExpressionException>(() => Outcome.Compile(source).Evaluate(new Record()));

        Assert.Contains(mentioned, error.Message);
    }

    [Fact]
    public void IsTrue_follows_JavaScript_truthiness()
    {
        var record = new Record { ["zero"] = 0d, ["text"] = "0", ["empty"] = "", ["list"] = new List<object?>(), ["nan"] = double.NaN };

        Assert.False(Outcome.Compile("record.zero").IsTrue(record));
        Assert.True(Outcome.Compile("record.text").IsTrue(record));
        Assert.False(Outcome.Compile("record.empty").IsTrue(record));
        Assert.True(Outcome.Compile("record.list").IsTrue(record));
        Assert.False(Outcome.Compile("record.nan").IsTrue(record));
        Assert.False(Outcome.Compile("record.missing").IsTrue(record));
        Assert.True(Outcome.Compile("() => 0").IsTrue(record));
    }
}
