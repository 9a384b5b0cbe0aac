namespace Saas.Web.Portal.Email;

public sealed record EmailMessage(string To, string Subject, string Body);

/// <summary>How the portal sends mail (password resets, invitations).</summary>
public interface IEmailSender
{
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}
