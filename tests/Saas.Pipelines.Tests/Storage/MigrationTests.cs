using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tests.Storage;

public sealed class MigrationTests
{
    /// <summary>
    /// Other branches add SQLite migrations; this fails until the same version exists under
    /// src/Pipelines/Storage/Migrations/Postgres (same number and name, PostgreSQL types: BIGINT,
    /// DOUBLE PRECISION, BYTEA, identity columns, no WITHOUT ROWID).
    /// </summary>
    [Fact]
    public void Every_sqlite_migration_has_a_postgresql_twin()
    {
        var sqlite = Database.Migrations(SqlDialect.Sqlite).Select(m => m.Name).ToList();
        var postgres = Database.Migrations(SqlDialect.Postgres).Select(m => m.Name).ToList();

        Assert.NotEmpty(sqlite);
        var missing = sqlite.Except(postgres).ToList();
        Assert.True(missing.Count == 0, $"SQLite migrations without a PostgreSQL twin in src/Pipelines/Storage/Migrations/Postgres/: {string.Join(", ", missing)}");
        Assert.Equal(sqlite, postgres);
    }
}

public sealed class DatabaseProviderTests
{
    private static InvalidOperationException ResolveFails(Dictionary<string, string?> settings)
    {
        settings["Flowgate:DataDirectory"] = Path.Combine(Path.GetTempPath(), "flowgate-provider-tests", Guid.NewGuid().ToString("N"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddPipelines();
        using var provider = services.BuildServiceProvider();
        return Assert.Throws<InvalidOperationException>(() => provider.GetRequiredService<Database>());
    }

    [Fact]
    public void An_unknown_provider_names_the_setting_and_the_choices()
    {
        var error = ResolveFails(new() { ["Flowgate:Database:Provider"] = "mysql" });

        Assert.Contains("Flowgate:Database:Provider is 'mysql'", error.Message);
        Assert.Contains("'postgres'", error.Message);
    }

    [Fact]
    public void Postgres_without_a_connection_string_names_the_missing_setting()
    {
        var error = ResolveFails(new() { ["Flowgate:Database:Provider"] = "postgres" });

        Assert.Contains("ConnectionStrings:Flowgate", error.Message);
    }
}
