namespace Saas.Pipelines.Secrets;

/// <summary>Encrypts tenant secrets at rest. The host provides it (ASP.NET Core Data Protection in the web host).</summary>
public interface ISecretProtector
{
    string Protect(string tenantId, string secret);

    string Unprotect(string tenantId, string protectedSecret);
}
