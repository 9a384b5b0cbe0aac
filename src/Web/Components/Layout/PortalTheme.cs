using MudBlazor;

namespace Saas.Web.Components.Layout;

public static class PortalTheme
{
    /// <summary>System fonts: the portal loads nothing from outside its own host.</summary>
    public static MudTheme Theme { get; } = new()
    {
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"] },
        },
    };
}
