using System.Security.Claims;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Saas.Pipelines;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Tenancy;
using Saas.Web.Components.Pipelines;

namespace Saas.Portal.Tests;

/// <summary>Pages on the real engine (SQLite in a temporary folder) with a signed-in user of a real tenant.</summary>
public abstract class PageContext : PortalContext
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flowgate-portal-tests", Guid.NewGuid().ToString("N"));

    protected PageContext()
    {
        Services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Flowgate:DataDirectory"] = _directory,
        }).Build());
        Services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        Services.AddPipelines();
        Services.AddPipelineBuilder();
        _auth = AddAuthorization();
    }

    private readonly Bunit.TestDoubles.BunitAuthorizationContext _auth;

    protected const string Csv = """
        {"name":"orders","trigger":{"type":"upload","format":"csv"},"steps":[
          {"id":"total","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)"}},
          {"id":"big","type":"filter","where":"record.total >= 100"}],
         "sink":{"type":"blob","format":"csv"}}
        """;

    /// <summary>A valid two-step CSV pipeline with this name.</summary>
    public static string Definition(string name) => Csv.Replace("\"orders\"", System.Text.Json.JsonSerializer.Serialize(name));

    protected PipelineStore Pipelines => Services.GetRequiredService<PipelineStore>();

    protected async Task<string> TenantAsync(string name = "acme") =>
        (await Services.GetRequiredService<TenantStore>().CreateTenantAsync(name, CancellationToken.None)).Tenant.Id;

    protected void SignIn(string tenantId, string role = "builder", string email = "ann@example.com", bool platformAdmin = false)
    {
        _auth.SetAuthorized(email);
        Claim[] claims = [new("tenant", tenantId), new(ClaimTypes.NameIdentifier, "user-1"), new(ClaimTypes.Email, email), new(ClaimTypes.Role, role)];
        _auth.SetClaims(platformAdmin ? [.. claims, new Claim(Saas.Web.Portal.PortalUser.PlatformAdminClaim, "true")] : claims);
    }

    protected async Task<PipelineRow> PipelineAsync(string tenantId, string definition = Csv, string? publishedBy = "ann@example.com") =>
        await Pipelines.CreateAsync(tenantId, definition, DefinitionParser.Parse(definition).Pipeline!, publishedBy, CancellationToken.None);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
