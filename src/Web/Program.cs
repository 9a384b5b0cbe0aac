using Saas.Web;
using Saas.Web.Tenancy;

if (args is ["create-tenant", .. var rest])
{
    // Settings are passed as --Key=value; everything else belongs to the command.
    var settings = rest.Where(a => a.Contains('=')).ToArray();
    var command = rest.Where(a => !a.Contains('=')).ToArray();
    return await CreateTenantCommand.RunAsync(FlowgateHost.Build(settings), command);
}
await FlowgateHost.Build(args).RunAsync();
return 0;
