// The web host (tenant API, gateway, portal) on a Linux App Service plan. Its embedded runtime is
// off: the Function App executes the work.
param appName string
param location string
param tags object
param sku string
param identityId string
param identityClientId string
@description('Settings shared with the Function App, plus the web host\'s own.')
param appSettings object

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${appName}'
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: sku
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      linuxFxVersion: 'DOTNETCORE|10.0'
      alwaysOn: true
      http20Enabled: true
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      healthCheckPath: '/healthz'
    }
  }
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: app
  name: 'appsettings'
  properties: union(appSettings, {
    AZURE_CLIENT_ID: identityClientId
    ASPNETCORE_ENVIRONMENT: 'Production'
  })
}

output appName string = app.name
output defaultHostName string = app.properties.defaultHostName
