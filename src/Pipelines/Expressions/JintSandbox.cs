using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Acornima.Ast;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Jint.Runtime;
using Jint.Runtime.Descriptors;
using Jint.Runtime.Interop;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// A Jint engine locked down for running untrusted expressions: strict mode, no CLR, no eval, time, memory
/// and recursion limits, and every built-in frozen so nothing an expression does can be seen by the next one
/// (tenants share engines). Engines are not thread-safe, so each thread has its own per set of limits.
/// </summary>
internal sealed class JintSandbox
{
    private static readonly ConcurrentDictionary<ExpressionLimits, ThreadLocal<JintSandbox?>> Pools = new();

    // Binary buffers allocate their whole size in one native call, which the statement-level memory checks
    // cannot stop in time; record expressions have no use for them, nor for cross-evaluation state.
    private static readonly string[] RemovedGlobals =
    [
        "ArrayBuffer", "SharedArrayBuffer", "DataView", "Atomics", "Int8Array", "Uint8Array", "Uint8ClampedArray",
        "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "Float16Array", "Float32Array", "Float64Array",
        "BigInt64Array", "BigUint64Array", "ShadowRealm", "WeakRef", "FinalizationRegistry",
    ];

    // RegExp's legacy statics remember the last match, which would carry one expression's data into the next.
    private static readonly string[] RemovedRegExpStatics =
    [
        "input", "$_", "lastMatch", "$&", "lastParen", "$+", "leftContext", "$`", "rightContext", "$'",
        "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9",
    ];

    // Built-ins not reachable from globalThis by property walks; frozen too.
    private const string HiddenIntrinsics = """
        [function* () {}, async function () {}, async function* () {}, (function* () {})(), (async function* () {})(),
         [].values(), ''[Symbol.iterator](), new Map().values(), new Set().values(), /a/g[Symbol.matchAll]('a'),
         Iterator.from({ next() { return { done: true }; } }), [].values().map(x => x)]
        """;

    private readonly Engine _engine;
    private readonly ExpressionLimits _limits;

    private JintSandbox(ExpressionLimits limits)
    {
        _limits = limits;
        _engine = new Engine(options =>
        {
            options.Strict();
            options.DisableStringCompilation();
            options.TimeoutInterval(limits.Timeout);
            options.LimitMemory(limits.MemoryBytes);
            options.LimitRecursion(limits.RecursionDepth);
            options.MaxArraySize(limits.MaxArrayLength);
            options.RegexTimeoutInterval(limits.Timeout);
            options.Constraints.StackOverflowGuard = true;
            options.Culture(CultureInfo.InvariantCulture);
            options.LocalTimeZone(TimeZoneInfo.Utc);
        });
        Harden();
    }

    /// <summary>Set when a limit stopped the engine mid-run; the thread gets a fresh one for its next evaluation.</summary>
    public bool IsRetired { get; private set; }

    public static ThreadLocal<JintSandbox?> PoolFor(ExpressionLimits limits) =>
        Pools.GetOrAdd(limits, static _ => new ThreadLocal<JintSandbox?>());

    public static JintSandbox For(ThreadLocal<JintSandbox?> pool, ExpressionLimits limits)
    {
        if (pool.Value is { IsRetired: false } sandbox)
        {
            return sandbox;
        }
        try
        {
            return pool.Value = new JintSandbox(limits);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ExpressionException($"The expression sandbox could not start: {e.Message}");
        }
    }

    /// <summary>The expression as a script: parenthesized, with line breaks so a trailing line comment cannot swallow the parenthesis.</summary>
    public static Prepared<Script> Prepare(string source, ExpressionLimits limits) =>
        Engine.PrepareScript(
            "(\n" + source + "\n)",
            source: "expression",
            strict: true,
            options: new ScriptPreparationOptions { ParsingOptions = new ScriptParsingOptions { RegexTimeout = limits.Timeout } });

    public JsValue Run(in Prepared<Script> script, Record record)
    {
        try
        {
            _engine.SetValue("record", JintValues.ToJs(_engine, record));
            return _engine.Evaluate(script);
        }
        catch (JavaScriptException e)
        {
            throw new ExpressionException(Describe(e));
        }
        catch (Exception e) when (e is TimeoutException or RegexMatchTimeoutException)
        {
            throw Retire($"expression exceeded its {_limits.Timeout.TotalMilliseconds:0.###} ms time limit");
        }
        catch (MemoryLimitExceededException)
        {
            throw Retire($"expression exceeded its {_limits.MemoryBytes} byte memory limit");
        }
        catch (RecursionDepthOverflowException)
        {
            throw Retire($"expression exceeded its recursion depth limit of {_limits.RecursionDepth}");
        }
        catch (InsufficientExecutionStackException)
        {
            throw Retire("expression ran out of stack space");
        }
        catch (Exception e) when (e is not ExpressionException and not OutOfMemoryException)
        {
            // Jint's own failures (module loading, host errors): report them as the expression's, on a fresh engine next time.
            throw Retire($"expression failed: {e.Message}");
        }
        finally
        {
            if (!IsRetired)
            {
                _engine.SetValue("record", JsValue.Undefined);
            }
        }
    }

    private ExpressionException Retire(string message)
    {
        IsRetired = true;
        return new ExpressionException(message);
    }

    private static string Describe(JavaScriptException e)
    {
        var message = e.Message;
        var text = e.Error is JsError error
            ? (ErrorName(error) is { } name ? (message.Length == 0 ? name : $"{name}: {message}") : message)
            : $"Uncaught {message}";
        return text.Length <= 1000 ? text : text[..1000] + "…";
    }

    /// <summary>The error's name, read from data properties only, so no script code runs outside the limits.</summary>
    private static string? ErrorName(ObjectInstance error)
    {
        ObjectInstance? current = error;
        for (var depth = 0; current is not null && depth < 8; depth++)
        {
            if (current.GetType().Name.Contains("Proxy", StringComparison.Ordinal))
            {
                return null;
            }
            var descriptor = current.GetOwnProperty("name");
            if (descriptor != PropertyDescriptor.Undefined)
            {
                return descriptor.IsDataDescriptor() && descriptor.Value is JsString name ? name.ToString() : null;
            }
            current = current.Prototype;
        }
        return null;
    }

    private void Harden()
    {
        var global = _engine.Global;
        var hidden = _engine.Evaluate(HiddenIntrinsics);

        foreach (var name in RemovedGlobals)
        {
            global.Delete(name);
        }
        var regExp = (ObjectInstance)global.Get("RegExp");
        foreach (var name in RemovedRegExpStatics)
        {
            regExp.Delete(name);
        }

        var objectConstructor = (ObjectInstance)global.Get("Object");
        var defineProperty = objectConstructor.Get("defineProperty");
        var freeze = objectConstructor.Get("freeze");

        var stringPrototype = (ObjectInstance)((ObjectInstance)global.Get("String")).Get("prototype");
        Define(defineProperty, stringPrototype, "repeat", ("value", BoundedRepeat(stringPrototype.Get("repeat"))), ("writable", true), ("enumerable", false), ("configurable", true));
        Define(defineProperty, global, "record", ("value", JsValue.Undefined), ("writable", true), ("enumerable", false), ("configurable", false));

        var seen = new HashSet<ObjectInstance>(ReferenceEqualityComparer.Instance);
        var pending = new Stack<JsValue>([global, hidden]);
        while (pending.TryPop(out var value))
        {
            if (value is not ObjectInstance obj || !seen.Add(obj))
            {
                continue;
            }
            foreach (var (key, descriptor) in obj.GetOwnProperties().ToList())
            {
                if (ReferenceEquals(obj, global) && key.IsString() && key.ToString() == "record")
                {
                    continue;
                }
                if (descriptor.IsAccessorDescriptor())
                {
                    pending.Push(descriptor.Get ?? JsValue.Undefined);
                    pending.Push(descriptor.Set ?? JsValue.Undefined);
                }
                else
                {
                    pending.Push(descriptor.Value);
                }
            }
            if (obj.Prototype is { } prototype)
            {
                pending.Push(prototype);
            }
            if (!ReferenceEquals(obj, global))
            {
                _engine.Call(freeze, JsValue.Undefined, [obj]);
            }
        }

        foreach (var (key, descriptor) in global.GetOwnProperties().ToList())
        {
            if (key.IsString() && key.ToString() == "record")
            {
                continue;
            }
            if (descriptor.IsDataDescriptor())
            {
                Define(defineProperty, global, key, ("writable", false), ("configurable", false));
            }
            else
            {
                Define(defineProperty, global, key, ("configurable", false));
            }
        }
        global.PreventExtensions();
    }

    /// <summary>String.prototype.repeat builds its result in one native call; refuse results past the memory limit up front.</summary>
    private ClrFunction BoundedRepeat(JsValue original)
    {
        var maxLength = _limits.MaxStringLength;
        return new ClrFunction(_engine, "repeat", (thisObject, arguments) =>
        {
            if (thisObject.IsNull() || thisObject.IsUndefined())
            {
                return _engine.Call(original, thisObject, arguments);
            }
            var s = TypeConverter.ToString(thisObject);
            var count = TypeConverter.ToIntegerOrInfinity(arguments.Length > 0 ? arguments[0] : JsValue.Undefined);
            if (count >= 1 && s.Length * count > maxLength)
            {
                throw new JavaScriptException(_engine.Construct("RangeError", [new JsString("Invalid string length")]));
            }
            return _engine.Call(original, new JsString(s), [JsNumber.Create(count)]);
        }, 1, PropertyFlag.Configurable);
    }

    private void Define(JsValue defineProperty, ObjectInstance target, JsValue key, params (string Name, JsValue Value)[] fields)
    {
        var descriptor = new JsObject(_engine);
        foreach (var (name, value) in fields)
        {
            descriptor.Set(name, value);
        }
        _engine.Call(defineProperty, JsValue.Undefined, [target, key, descriptor]);
    }
}
