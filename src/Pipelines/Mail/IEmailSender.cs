namespace Saas.Pipelines.Mail;

public sealed record EmailMessage(string To, string Subject, string Body);

/// <summary>How Flowgate sends mail (password resets, invitations, spending alerts).</summary>
public interface IEmailSender
{
    Task SendAsync(EmailMessage message, CancellationToken cancellationToken);
}
