using Saas.Web;
using Saas.Web.Tenancy;

var app = FlowgateHost.Build(args);
if (args is ["create-tenant", ..])
{
    return await CreateTenantCommand.RunAsync(app, args[1..]);
}
await app.RunAsync();
return 0;
