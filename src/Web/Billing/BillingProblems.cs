using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Triggers;

namespace Saas.Web.Billing;

public static class BillingProblems
{
    public static ProblemHttpResult PaymentRequired(string reason) => Api.Problems.From(RequestRefusal.PaymentRequired(reason));
}

/// <summary>A run refused by the spending cap or the billing state answers 402 wherever it was started from.</summary>
public sealed class SpendingRefusedHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not SpendingRefusedException refused)
        {
            return false;
        }
        await BillingProblems.PaymentRequired(refused.Message).ExecuteAsync(context);
        return true;
    }
}
