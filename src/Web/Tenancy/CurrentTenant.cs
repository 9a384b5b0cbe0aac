namespace Saas.Web.Tenancy;

/// <summary>The tenant the current request acts for, set by authentication.</summary>
public sealed class CurrentTenant
{
    private string? _id;

    public string Id => _id ?? throw new InvalidOperationException("the request is not authenticated as a tenant");

    public string? KeyId { get; private set; }

    public bool IsSet => _id is not null;

    public void Set(string tenantId, string keyId)
    {
        _id = tenantId;
        KeyId = keyId;
    }
}
