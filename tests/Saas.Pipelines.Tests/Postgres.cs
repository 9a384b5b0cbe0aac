using Npgsql;

namespace Saas.Tests;

/// <summary>The PostgreSQL server started by tests/services/10-postgres.sh (a real server, no mocks).</summary>
internal static class Postgres
{
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("FLOWGATE_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "FLOWGATE_TEST_POSTGRES is not set: run tests/services/10-postgres.sh (./test.sh does) and `set -a; . tests/services/.env` before dotnet test");

    /// <summary>A database of its own (flowgate_test_&lt;guid&gt;), dropped when disposed, so tests never see each other's rows.</summary>
    public static PostgresDatabase NewDatabase()
    {
        var name = $"flowgate_test_{Guid.NewGuid():N}";
        using (var server = new NpgsqlConnection(ServerConnectionString))
        {
            server.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {name}", server);
            create.ExecuteNonQuery();
        }
        return new PostgresDatabase(name, new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString);
    }
}

internal sealed class PostgresDatabase(string name, string connectionString) : IDisposable
{
    public string ConnectionString { get; } = connectionString;

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var server = new NpgsqlConnection(Postgres.ServerConnectionString);
        server.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", server);
        drop.ExecuteNonQuery();
    }
}

/// <summary>The database adapters a store suite runs on.</summary>
public enum StoreAdapter
{
    Sqlite,
    Postgres,
}
