using System.Globalization;
using System.Text;
using Microsoft.Extensions.Options;

namespace Saas.Pipelines.Billing;

/// <summary>
/// E-mail as .eml files in <c>{DataDirectory}/mail</c>, the embedded default's pickup folder: a mail
/// server or a person picks them up from there. Written to a temporary name, then renamed, so a reader
/// never sees half a message.
/// </summary>
public sealed class PickupFolderMail(IOptions<FlowgateOptions> options, TimeProvider time)
{
    public string Folder => Path.Combine(Path.GetFullPath(options.Value.DataDirectory), "mail");

    public async Task SendAsync(string to, string subject, string body, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Folder);
        var now = time.GetUtcNow();
        var message = new StringBuilder()
            .Append("From: Flowgate <billing@flowgate.local>\r\n")
            .Append("To: ").Append(to).Append("\r\n")
            .Append("Subject: ").Append(subject).Append("\r\n")
            .Append("Date: ").Append(now.ToString("ddd, dd MMM yyyy HH:mm:ss +0000", CultureInfo.InvariantCulture)).Append("\r\n")
            .Append("Message-ID: <").Append(Guid.NewGuid().ToString("N")).Append("@flowgate.local>\r\n")
            .Append("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
            .Append(body.ReplaceLineEndings("\r\n")).Append("\r\n");
        var name = $"{now:yyyyMMddTHHmmssfff}-{Guid.NewGuid():N}";
        var temporary = Path.Combine(Folder, name + ".tmp");
        await File.WriteAllTextAsync(temporary, message.ToString(), new UTF8Encoding(false), cancellationToken);
        File.Move(temporary, Path.Combine(Folder, name + ".eml"));
    }
}
