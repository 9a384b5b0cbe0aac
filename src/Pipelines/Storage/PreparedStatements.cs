using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace Saas.Pipelines.Storage;

/// <summary>
/// SQLite compiles SQL text anew for every new command, which costs more than executing the small
/// statements on the execution path. The writer's connection lives as long as the process, so those
/// statements are compiled once per connection and re-bound on each use (see docs/decisions/006).
/// PostgreSQL connections come from Npgsql's pool as new objects each time, so a command is made per
/// use there and Npgsql's automatic preparation (per physical connection) plays the cache's part.
/// </summary>
public static class PreparedStatements
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Cache = new();

    public static DbCommand Prepared(this DbConnection connection, string sql, DbTransaction? transaction)
    {
        if (connection is not SqliteConnection sqlite)
        {
            var fresh = connection.CreateCommand();
            fresh.CommandText = sql;
            fresh.Transaction = transaction;
            return fresh;
        }
        var commands = Cache.GetValue(sqlite, _ => new Dictionary<string, SqliteCommand>(StringComparer.Ordinal));
        if (!commands.TryGetValue(sql, out var command))
        {
            command = sqlite.CreateCommand();
            command.CommandText = sql;
            command.Transaction = (SqliteTransaction?)transaction;
            command.Prepare();
            commands[sql] = command;
        }
        command.Transaction = (SqliteTransaction?)transaction;
        return command;
    }

    public static DbCommand With(this DbCommand command, string name, object? value)
    {
        var parameters = command.Parameters;
        var index = parameters.IndexOf(name);
        if (index < 0)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            parameters.Add(parameter);
        }
        else
        {
            parameters[index].Value = value ?? DBNull.Value;
        }
        return command;
    }

    public static long? ScalarInt64(this DbCommand command) => command.ExecuteScalar() switch
    {
        long value => value,
        null or DBNull => null,
        var other => Convert.ToInt64(other, System.Globalization.CultureInfo.InvariantCulture),
    };

    public static long? GetInt64OrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    public static double? GetDoubleOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetDouble(ordinal);

    public static string? GetStringOrNull(this DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
