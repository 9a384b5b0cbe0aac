using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;
using Saas.Pipelines;

// The production execution host. Its functions (queue, timer, blob and HTTP triggers calling the
// engine) arrive with the Azure issue; the engine it hosts is the same one the web host embeds.
var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services.AddPipelines();
builder.Build().Run();
