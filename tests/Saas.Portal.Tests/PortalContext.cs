using Microsoft.Extensions.Time.Testing;
using MudBlazor.Services;

namespace Saas.Portal.Tests;

/// <summary>bUnit with MudBlazor's services, a fixed clock and JavaScript calls answered with defaults.</summary>
public abstract class PortalContext : BunitContext
{
    protected PortalContext()
    {
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton<TimeProvider>(Clock);
    }

    /// <summary>MudBlazor's services only dispose asynchronously; xunit disposes test classes synchronously.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        else
        {
            base.Dispose(disposing);
        }
    }

    protected FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 3, 27, 12, 0, 0, TimeSpan.Zero));
}
