namespace Saas.Web.Portal.Accounts;

/// <summary>A person who signs in to the portal (ASP.NET Core Identity's user); the e-mail is the user name.</summary>
public sealed class Account
{
    public string Id { get; set; } = Saas.Pipelines.Ids.New("usr");
    public string Email { get; set; } = "";
    public string NormalizedEmail { get; set; } = "";
    public bool EmailConfirmed { get; set; }
    public string? PasswordHash { get; set; }
    public string SecurityStamp { get; set; } = Guid.NewGuid().ToString("N");
    public string ConcurrencyStamp { get; set; } = Guid.NewGuid().ToString("N");
    public bool LockoutEnabled { get; set; } = true;
    public long? LockoutEnd { get; set; }
    public int AccessFailedCount { get; set; }
    public long CreatedAt { get; set; }
}
