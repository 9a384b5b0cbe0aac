using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Saas.Functions;

// The production execution host: thin functions over the same engine the web host embeds.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddFlowgateFunctions(builder.Configuration);
builder.Build().Run();
