using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;

namespace Saas.Pipelines.Mail;

/// <summary>
/// The embedded default: each message becomes an .eml file in <c>{DataDirectory}/mail</c> (open it with any
/// mail client) and a log line, so a single machine needs no mail server.
/// </summary>
public sealed partial class PickupFolderEmailSender(IOptions<FlowgateOptions> options, TimeProvider time, ILogger<PickupFolderEmailSender> logger) : IEmailSender
{
    public const string From = "Flowgate <no-reply@flowgate.local>";

    public string Folder { get; } = Path.Combine(Path.GetFullPath(options.Value.DataDirectory), "mail");

    public async Task SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var now = time.GetUtcNow();
        var id = Ids.New("mail");
        var path = Path.Combine(Folder, $"{now:yyyyMMddTHHmmssfff}-{id}.eml");
        var eml = new StringBuilder()
            .Append("From: ").Append(From).Append("\r\n")
            .Append("To: ").Append(message.To).Append("\r\n")
            .Append("Subject: ").Append(message.Subject).Append("\r\n")
            .Append("Date: ").Append(now.ToString("r")).Append("\r\n")
            .Append("Message-ID: <").Append(id).Append("@flowgate.local>\r\n")
            .Append("MIME-Version: 1.0\r\n")
            .Append("Content-Type: text/plain; charset=utf-8\r\n")
            .Append("Content-Transfer-Encoding: 8bit\r\n\r\n")
            .Append(message.Body.ReplaceLineEndings("\r\n"))
            .ToString();
        var temporary = path + ".tmp";
        await File.WriteAllTextAsync(temporary, eml, new UTF8Encoding(false), cancellationToken);
        File.Move(temporary, path);
        LogSent(message.To, message.Subject, path);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "E-mail to {To}: '{Subject}' written to {Path}")]
    private partial void LogSent(string to, string subject, string path);
}
