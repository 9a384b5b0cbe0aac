// The platform's Service Bus namespace (tenants may also name their own, with a connection secret).
// Local (SAS) auth is off; the web host receives with its identity.
param namespaceName string
param location string
param tags object
param webPrincipalId string

var serviceBusDataReceiver = '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'
var serviceBusDataSender = '69a216fc-b8fb-44d8-bc22-1f3c2552a45e'

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: 'Standard'
    tier: 'Standard'
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in [serviceBusDataReceiver, serviceBusDataSender]: {
  name: guid(namespace.id, webPrincipalId, role)
  scope: namespace
  properties: {
    principalId: webPrincipalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
