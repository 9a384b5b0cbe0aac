using Dapper;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.ServiceBus;

/// <summary>A saved connection as listed: never with its secret.</summary>
public sealed record ServiceBusConnectionRow(string Name, string Namespace, long UpdatedAt);

/// <summary>Each tenant's Service Bus connection strings, encrypted before they are stored; pipelines name them.</summary>
public sealed class ServiceBusConnections(Database database, ISecretProtector secrets, TimeProvider time)
{
    public async Task<ServiceBusConnectionRow> SaveAsync(string tenantId, string name, string @namespace, string connectionString, CancellationToken cancellationToken)
    {
        var protectedConnectionString = secrets.Protect(tenantId, connectionString);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO service_bus_connections (tenant_id, name, namespace, protected_connection_string, updated_at)
                VALUES (@tenantId, @name, @namespace, @protectedConnectionString, @now)
                ON CONFLICT (tenant_id, name) DO UPDATE SET
                  namespace = excluded.namespace, protected_connection_string = excluded.protected_connection_string, updated_at = excluded.updated_at
                RETURNING name, namespace, updated_at
                """;
            return connection.QuerySingle<ServiceBusConnectionRow>(sql, new { tenantId, name, @namespace, protectedConnectionString, now }, transaction);
        }, cancellationToken);
    }

    public IReadOnlyList<ServiceBusConnectionRow> List(string tenantId)
    {
        const string sql = "SELECT name, namespace, updated_at FROM service_bus_connections WHERE tenant_id = @tenantId ORDER BY name";
        using var connection = database.OpenConnection();
        return connection.Query<ServiceBusConnectionRow>(sql, new { tenantId }).AsList();
    }

    /// <returns>The decrypted connection string, or null if the tenant has no connection of that name.</returns>
    public string? Reveal(string tenantId, string name)
    {
        const string sql = "SELECT protected_connection_string FROM service_bus_connections WHERE tenant_id = @tenantId AND name = @name";
        using var connection = database.OpenConnection();
        var protectedValue = connection.ExecuteScalar<string?>(sql, new { tenantId, name });
        return protectedValue is null ? null : secrets.Unprotect(tenantId, protectedValue);
    }

    public async Task<bool> DeleteAsync(string tenantId, string name, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "DELETE FROM service_bus_connections WHERE tenant_id = @tenantId AND name = @name";
            return connection.Execute(sql, new { tenantId, name }, transaction) == 1;
        }, cancellationToken);
}
