using Saas.Web.Components.Pipelines;

namespace Saas.Portal.Tests;

public sealed class DefinitionViewsTests : PortalContext
{
    private const string Pipeline = """
        {"name":"orders","trigger":{"type":"upload","format":"csv"},"steps":[
          {"id":"total","type":"map","fields":{"total":"Number(record.qty) * 2"}},
          {"id":"big","type":"filter","where":"record.total >= 100"}],
         "sink":{"type":"blob","format":"csv"}}
        """;

    private IRenderedComponent<DefinitionEditor> Editor(DefinitionModel model) => Render<DefinitionEditor>(p => p.Add(e => e.Model, model));

    [Fact]
    public void The_json_view_shows_what_the_form_made_and_its_edits_show_up_in_the_form()
    {
        var model = DefinitionModel.Load(Pipeline);
        var editor = Editor(model);
        editor.Find("[data-step='big'] .fg-expression input").Input("record.total > 5");

        editor.Find(".fg-json-toggle input").Change(true);
        var json = editor.Find("textarea").GetAttribute("value") ?? editor.Find("textarea").TextContent;
        Assert.Contains("\"where\": \"record.total > 5\"", json);

        editor.Find("textarea").Input(json.Replace("record.total > 5", "record.total > 7").Replace("\"csv\"\n  }", "\"json\"\n  }"));
        editor.Find(".fg-json-toggle input").Change(false);

        Assert.Equal("record.total > 7", editor.Find("[data-step='big'] .fg-expression input").GetAttribute("value"));
        Assert.Equal("record.total > 7", (string?)model.Step(1)["where"]);
    }

    [Fact]
    public void Json_that_does_not_parse_shows_the_parse_error_and_leaves_the_form_unchanged()
    {
        var model = DefinitionModel.Load(Pipeline);
        var editor = Editor(model);
        editor.Find(".fg-json-toggle input").Change(true);

        editor.Find("textarea").Input("""{"name": "orders", "steps": [ """);

        Assert.Contains("not valid JSON at line 1", editor.Markup);
        Assert.Equal("orders", (string?)model.Root["name"]);
        Assert.Equal(2, model.Steps.Count);
        editor.Find(".fg-json-toggle input").Change(false);
        Assert.Equal(2, editor.FindAll("[data-step]").Count);
    }

    [Fact]
    public void Each_parser_error_appears_next_to_the_field_its_path_names_and_in_the_summary()
    {
        var model = DefinitionModel.Load("""
            {"name":"orders","trigger":{"type":"queue","queue":"bad queue!"},"steps":[
              {"id":"total","type":"map","fields":{"total":"record.qty *"}},
              {"id":"big","type":"filter","where":""},
              {"id":"total","type":"drop","fields":["x"]}]}
            """);

        var editor = Editor(model);

        Assert.Contains("must be 1-63 characters", editor.Find("[data-path='trigger.queue']").TextContent);
        Assert.Contains("does not parse", editor.Find("[data-step='total'] [data-row='0'] .fg-expression").TextContent);
        Assert.Contains("must not be empty", editor.Find("[data-path='steps[1].where']").TextContent);
        Assert.Contains("is used by an earlier step", editor.Find("[data-path='steps[2]']").TextContent);
        var summary = editor.Find(".fg-error-summary").TextContent;
        Assert.Contains("steps[0].fields.total", summary);
        Assert.Contains("steps[1].where", summary);
        Assert.Contains("steps[2].id", summary);
        Assert.Contains("trigger.queue", summary);
    }

    [Fact]
    public void An_expression_field_shows_a_parse_error_while_typing_and_clears_it_when_fixed()
    {
        var model = DefinitionModel.Load(Pipeline);
        var editor = Editor(model);
        var input = () => editor.Find("[data-step='big'] .fg-expression input");

        input().Input("record.total >= (");
        Assert.Contains("does not parse: Unexpected end of input", editor.Find("[data-step='big'] .fg-expression").TextContent);

        input().Input("record.total >= (1)");
        Assert.DoesNotContain("does not parse", editor.Find("[data-step='big'] .fg-expression").TextContent);
        Assert.Empty(model.Errors);
    }

    [Fact]
    public void Field_suggestions_insert_the_previous_steps_fields_into_an_expression()
    {
        var model = DefinitionModel.Load(Pipeline);
        var editor = Render<DefinitionEditor>(p => p.Add(e => e.Model, model)
            .Add(e => e.FieldsFor, i => i == 0 ? ["qty", "unit price"] : ["qty", "unit price", "total"]));

        Assert.Empty(editor.FindAll("[data-step='total'] button[aria-label='Insert field total']"));
        editor.Find("[data-step='big'] button[aria-label='Insert field unit price']").Click();

        Assert.Equal("record.total >= 100 record[\"unit price\"]", (string?)model.Step(1)["where"]);
    }

    [Fact]
    public void The_cron_helper_lists_the_next_five_fire_times_in_the_users_zone()
    {
        // 2026-03-27 12:00 UTC; Berlin moves to summer time on 2026-03-29.
        var helper = Render<CronHelper>(p => p.Add(c => c.Cron, "0 6 * * *").Add(c => c.ScheduleZone, "UTC").Add(c => c.UserZone, "Europe/Berlin"));

        var times = helper.FindAll(".fg-next-fires time").Select(t => t.TextContent).ToList();

        Assert.Equal(
            ["Sat 2026-03-28 07:00 (UTC+01:00)", "Sun 2026-03-29 08:00 (UTC+02:00)", "Mon 2026-03-30 08:00 (UTC+02:00)", "Tue 2026-03-31 08:00 (UTC+02:00)", "Wed 2026-04-01 08:00 (UTC+02:00)"],
            times);
        Assert.Contains("Europe/Berlin", helper.Markup);
    }

    [Fact]
    public void A_schedule_trigger_gets_its_cron_from_a_preset_and_shows_when_it_fires()
    {
        var model = DefinitionModel.Load(Pipeline);
        var editor = Render<DefinitionEditor>(p => p.Add(e => e.Model, model).Add(e => e.UserZone, "America/New_York"));

        editor.Find(".fg-trigger-type label:contains('Schedule') input").Click();
        editor.Find("button:contains('Weekdays at 09:00')").Click();

        Assert.Equal("0 9 * * 1-5", (string?)model.Trigger["cron"]);
        Assert.Equal(5, editor.FindAll(".fg-next-fires li").Count);
        Assert.Contains("Mon 2026-03-30 05:00 (UTC-04:00)", editor.Find(".fg-next-fires").TextContent);
        Assert.Empty(model.Errors);
    }
}
