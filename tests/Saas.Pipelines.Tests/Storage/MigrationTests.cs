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
