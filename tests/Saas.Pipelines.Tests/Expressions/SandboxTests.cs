using Saas.Pipelines.Expressions;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Expressions;

public sealed class SandboxTests
{
    // Each limit test loosens the other limits so the one under test is always the one that fires, however loaded the machine.
    private static readonly ExpressionLimits OnlyTime = ExpressionLimits.Default with { MemoryBytes = 2_000_000_000 };
    private static readonly ExpressionLimits OnlyMemory = ExpressionLimits.Default with { Timeout = TimeSpan.FromMinutes(5) };
    private static readonly ExpressionLimits OnlyRecursion = ExpressionLimits.Default with { Timeout = TimeSpan.FromMinutes(5) };

    private static ExpressionException Fails(string source, Record? record = null, ExpressionLimits? limits = null) =>
        Assert.Throws<ExpressionException>(() => Outcome.Compile(source, limits).Evaluate(record ?? new Record()));

    [Theory]
    [InlineData("(() => { while (true) {} })()")]
    [InlineData("(() => { let i = 0; for (;;) { i = (i + 1) % 7; } })()")]
    [InlineData("(Promise.resolve().then(() => { while (true) {} }), 1)")]
    public void A_runaway_loop_is_stopped_by_the_time_limit(string source)
    {
        Assert.Equal("expression exceeded its 100 ms time limit", Fails(source, limits: OnlyTime).Message);
    }

    [Fact]
    public void The_time_limit_is_the_one_configured()
    {
        var limits = OnlyTime with { Timeout = TimeSpan.FromMilliseconds(20) };

        Assert.Equal("expression exceeded its 20 ms time limit", Fails("(() => { while (true) {} })()", limits: limits).Message);
    }

    [Fact]
    public void Catastrophic_regex_backtracking_is_stopped_by_the_time_limit()
    {
        var error = Fails("/^(a+)+$/.test(record.text)", new Record { ["text"] = new string('a', 40) + "!" }, OnlyTime);

        Assert.Equal("expression exceeded its 100 ms time limit", error.Message);
    }

    [Theory]
    [InlineData("(function f(n) { return f(n + 1) + 1; })(0)")]
    [InlineData("(() => { const f = n => f(n + 1) + 1; return f(0); })()")]
    [InlineData("(() => { const even = n => n === 0 || odd(n - 1); const odd = n => n !== 0 && even(n - 1); return even(100000); })()")]
    public void Deep_recursion_is_stopped_by_the_recursion_limit(string source)
    {
        Assert.Equal("expression exceeded its recursion depth limit of 64", Fails(source, limits: OnlyRecursion).Message);
    }

    [Theory]
    [InlineData("(() => { const parts = []; for (;;) parts.push('item ' + parts.length); })()")]
    [InlineData("(() => { let s = 'x'; for (let i = 0; i < 40; i++) s += s; return s.length; })()")]
    [InlineData("Array.from({ length: 1e7 }).length")]
    public void Allocation_past_the_memory_limit_is_stopped(string source)
    {
        Assert.Equal("expression exceeded its 4000000 byte memory limit", Fails(source, limits: OnlyMemory).Message);
    }

    [Theory]
    [InlineData("'x'.repeat(1e9).length")]
    [InlineData("record.text.repeat(5e6).length")]
    public void One_huge_repeat_is_refused_before_it_allocates(string source)
    {
        Assert.Equal("RangeError: Invalid string length", Fails(source, new Record { ["text"] = "abc" }, OnlyMemory).Message);
    }

    [Fact]
    public void Padding_a_string_past_the_memory_limit_is_refused()
    {
        var error = Fails("record.text.padStart(record.width, '-')", new Record { ["text"] = "x", ["width"] = 1e9 });

        Assert.Matches("memory limit|Invalid string length", error.Message);
    }

    [Fact]
    public void Deeply_nested_data_built_by_a_script_does_not_overflow_the_stack()
    {
        var error = Fails("(() => { let a = []; for (let i = 0; i < 20000; i++) a = [a]; return JSON.stringify(a).length; })()");

        Assert.NotEmpty(error.Message);
    }

    [Fact]
    public void An_expression_still_works_after_its_thread_hit_a_limit()
    {
        Fails("(() => { while (true) {} })()");
        Fails("(function f() { return f(); })()");

        Assert.Equal(6d, Outcome.Compile("[1, 2, 3].reduce((a, b) => a + b)").Evaluate(new Record()));
    }

    [Theory]
    [InlineData("System")]
    [InlineData("System.IO.File.ReadAllText('/etc/passwd')")]
    [InlineData("importNamespace('System.IO')")]
    [InlineData("clr")]
    [InlineData("require('fs')")]
    [InlineData("process.env")]
    [InlineData("this.constructor.constructor('return process')()")]
    [InlineData("record.constructor.constructor('return globalThis')()")]
    [InlineData("Function('return this')()")]
    [InlineData("eval('1 + 1')")]
    [InlineData("(() => {}).constructor('return 1')()")]
    [InlineData("new ArrayBuffer(1e9)")]
    [InlineData("new Uint8Array(1e9)")]
    [InlineData("new ShadowRealm()")]
    [InlineData("import('fs')")]
    public void Scripts_reach_nothing_outside_the_sandbox(string source)
    {
        if (ExpressionCompiler.TryCompile(source, ExpressionLimits.Default, out _) is { } compiled)
        {
            Assert.Throws<ExpressionException>(() => compiled.Evaluate(new Record()));
        }
    }

    [Fact]
    public void Host_types_are_not_visible_to_scripts()
    {
        var globals = (List<object?>)Outcome.Compile("Object.getOwnPropertyNames(globalThis)").Evaluate(new Record())!;

        Assert.DoesNotContain("System", globals);
        Assert.DoesNotContain("importNamespace", globals);
        Assert.DoesNotContain("ArrayBuffer", globals);
        Assert.Equal("object", Outcome.Compile("typeof record").Evaluate(new Record()));
    }

    [Fact]
    public void Scripts_cannot_change_the_callers_record()
    {
        var record = new Record
        {
            ["a"] = 1d,
            ["b"] = "keep",
            ["list"] = new List<object?> { 1d, 2d },
            ["nested"] = new Record { ["x"] = 1d },
        };
        var compiled = Outcome.Compile("(() => { record.a = 2; delete record.b; record.added = 1; record.list.push(3); record.nested.x = 9; return record.a; })()");

        Assert.Equal(2d, compiled.Evaluate(record));
        Assert.Equal(["a", "b", "list", "nested"], record.Keys);
        Assert.Equal(1d, record["a"]);
        Assert.Equal(new List<object?> { 1d, 2d }, record["list"]);
        Assert.Equal(1d, ((Record)record["nested"]!)["x"]);
    }

    [Theory]
    [InlineData("record.list")]
    [InlineData("record")]
    [InlineData("(() => record.list)()")]
    public void Results_are_copies_the_caller_can_change_freely(string source)
    {
        var list = new List<object?> { 1d, new Record { ["x"] = 1d } };
        var record = new Record { ["list"] = list };

        var result = Outcome.Compile(source).Evaluate(record);
        var resultList = result as List<object?> ?? (List<object?>)((Record)result!)["list"]!;
        resultList.Add(3d);
        ((Record)resultList[1]!)["x"] = 2d;

        Assert.Equal(2, list.Count);
        Assert.Equal(1d, ((Record)list[1]!)["x"]);
    }

    [Theory]
    [InlineData("globalThis.leak = record.secret")]
    [InlineData("Object.prototype.leak = record.secret")]
    [InlineData("Array.prototype.leak = record.secret")]
    [InlineData("(() => { String.prototype.trim = () => record.secret; })()")]
    [InlineData("(() => { Math.round = () => record.secret; })()")]
    [InlineData("Object.defineProperty(JSON, 'leak', { value: record.secret })")]
    [InlineData("Object.setPrototypeOf(Object.prototype, { leak: record.secret })")]
    [InlineData("(() => { (function* () {}).constructor.prototype.leak = record.secret; })()")]
    public void An_expression_cannot_leave_state_for_the_next_one(string source)
    {
        Fails(source, new Record { ["secret"] = "tenant A" });

        var probe = Outcome.Compile("[typeof leak, ({}).leak, [].leak, JSON.leak, ' x '.trim(), Math.round(1.5)].join('|')");
        Assert.Equal("undefined||||x|2", probe.Evaluate(new Record()));
    }

    [Fact]
    public void Regular_expression_matches_are_not_remembered_between_expressions()
    {
        Outcome.Compile("/(\\d{4})/.exec(record.card)[1]").Evaluate(new Record { ["card"] = "card 4242" });

        Assert.Equal("undefined|undefined", Outcome.Compile("`${RegExp.$1}|${RegExp.lastMatch}`").Evaluate(new Record()));
    }

    [Fact]
    public void Reassigning_record_inside_an_expression_does_not_carry_over()
    {
        Assert.Equal(5d, Outcome.Compile("record = 5").Evaluate(new Record()));

        Assert.Equal("object", Outcome.Compile("(() => typeof record)()").Evaluate(new Record()));
    }
}
