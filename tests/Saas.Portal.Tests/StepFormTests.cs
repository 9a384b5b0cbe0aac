using System.Text.Json.Nodes;
using Saas.Web.Components.Pipelines;

namespace Saas.Portal.Tests;

public sealed class StepFormTests : PortalContext
{
    private static DefinitionModel Model(string json) => DefinitionModel.Load(json);

    private const string Csv = """{"name":"orders","trigger":{"type":"upload","format":"csv"},"steps":[],"sink":{"type":"blob","format":"jsonl"}}""";

    [Fact]
    public void Adding_a_map_step_and_filling_its_row_writes_the_field_and_expression_into_the_definition()
    {
        var model = Model(Csv);
        var editor = Render<DefinitionEditor>(p => p.Add(e => e.Model, model));

        editor.Find("button[aria-label='Add a map step']").Click();
        editor.Find("[data-step='map1'] [data-row='0'] .fg-name input").Change("total");
        editor.Find("[data-step='map1'] [data-row='0'] .fg-expression input").Input("Number(record.qty) * Number(record.price)");

        Assert.Equal("""{"id":"map1","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)"}}""", model.Steps[0]!.ToJsonString());
        Assert.Empty(model.Errors);
    }
}
