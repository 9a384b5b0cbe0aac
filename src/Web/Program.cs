using Saas.Web;
using Saas.Web.Tenancy;

if (args is ["create-tenant", .. var rest])
{
    // Settings are passed as --Key=value; everything else belongs to the command.
    var settings = rest.Where(a => a.Contains('=')).ToArray();
    var command = rest.Where(a => !a.Contains('=')).ToArray();
    return await CreateTenantCommand.RunAsync(FlowgateHost.Build(settings), command);
}
if (args is ["create-platform-key", .. var keyArgs])
{
    return await Saas.Web.Platform.CreatePlatformKeyCommand.RunAsync(FlowgateHost.Build(keyArgs.Where(a => a.Contains('=')).ToArray()), keyArgs.Where(a => !a.Contains('=')).ToArray());
}
if (args is ["grant-platform-admin", .. var grantArgs])
{
    return await Saas.Web.Platform.GrantPlatformAdminCommand.RunAsync(FlowgateHost.Build(grantArgs.Where(a => a.Contains('=')).ToArray()).Services, grantArgs.Where(a => !a.Contains('=')).ToArray());
}
await FlowgateHost.Build(args).RunAsync();
return 0;
