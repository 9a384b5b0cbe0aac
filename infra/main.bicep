// Flowgate on Azure: the web host on App Service, the execution host on a Flex Consumption Function
// App, state in Azure Database for PostgreSQL, blobs and the work queue in one Storage account,
// tenant-facing messaging on Service Bus, secrets in Key Vault, telemetry in Application Insights.
// Every app reaches every service with its own user-assigned managed identity; no keys are issued.
targetScope = 'resourceGroup'

@description('Environment name; part of every resource name (dev, test, prod, or a short custom one).')
@minLength(2)
@maxLength(8)
param environmentName string

@description('Short product prefix of every resource name.')
@minLength(2)
@maxLength(10)
param namePrefix string = 'flowgate'

@description('Region of every resource.')
param location string = resourceGroup().location

@description('Object id of the Entra user or group that administers PostgreSQL (creates the app roles on first run).')
param postgresAdminObjectId string

@description('Display name of that Entra user or group, as PostgreSQL will know it.')
param postgresAdminName string

@description('Principal type of the PostgreSQL administrator.')
@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
param postgresAdminType string = 'Group'

@description('App Service plan SKU of the web host.')
param webSku string = 'P0v3'

@description('Most instances the Function App scales out to.')
@minValue(1)
@maxValue(1000)
param functionsMaximumInstances int = 100

var suffix = uniqueString(resourceGroup().id, environmentName)
var baseName = '${namePrefix}-${environmentName}'
var tags = {
  product: 'flowgate'
  environment: environmentName
}

module identities 'modules/identities.bicep' = {
  name: 'identities'
  params: {
    baseName: baseName
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    baseName: baseName
    location: location
    tags: tags
    publisherPrincipalIds: [
      identities.outputs.webPrincipalId
      identities.outputs.functionsPrincipalId
    ]
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    accountName: take(toLower(replace('${namePrefix}${environmentName}${suffix}', '-', '')), 24)
    location: location
    tags: tags
    webPrincipalId: identities.outputs.webPrincipalId
    functionsPrincipalId: identities.outputs.functionsPrincipalId
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    namespaceName: '${baseName}-sb-${suffix}'
    location: location
    tags: tags
    webPrincipalId: identities.outputs.webPrincipalId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    vaultName: take('${namePrefix}${environmentName}kv${suffix}', 24)
    location: location
    tags: tags
    secretReaderPrincipalIds: [
      identities.outputs.webPrincipalId
      identities.outputs.functionsPrincipalId
    ]
    keyUserPrincipalIds: [
      identities.outputs.webPrincipalId
      identities.outputs.functionsPrincipalId
    ]
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  params: {
    serverName: '${baseName}-pg-${suffix}'
    location: location
    tags: tags
    adminObjectId: postgresAdminObjectId
    adminName: postgresAdminName
    adminType: postgresAdminType
  }
}

var sharedSettings = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.connectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'
  Flowgate__Database__Provider: 'postgres'
  Flowgate__Blobs__Provider: 'azure'
  Flowgate__Queue__Provider: 'azure-storage'
  ConnectionStrings__Blobs: storage.outputs.blobEndpoint
  ConnectionStrings__Queues: storage.outputs.queueEndpoint
  // One Data Protection key ring for both apps (decision 025): the web host encrypts tenants' secrets, the functions decrypt them for http steps and webhook signatures.
  Flowgate__DataProtection__KeyRingBlob: '${storage.outputs.keysContainer}/keys.xml'
}

module functions 'modules/functions.bicep' = {
  name: 'functions'
  params: {
    appName: '${baseName}-func-${suffix}'
    location: location
    tags: tags
    identityId: identities.outputs.functionsIdentityId
    identityClientId: identities.outputs.functionsClientId
    storageAccountName: storage.outputs.accountName
    deploymentContainerUrl: '${storage.outputs.blobEndpoint}${storage.outputs.deploymentContainer}'
    maximumInstances: functionsMaximumInstances
    appSettings: union(sharedSettings, {
      ConnectionStrings__Flowgate: 'Host=${postgres.outputs.host};Database=${postgres.outputs.databaseName};Username=${identities.outputs.functionsName};Ssl Mode=Require'
    })
  }
}

module web 'modules/web.bicep' = {
  name: 'web'
  params: {
    appName: '${baseName}-web-${suffix}'
    location: location
    tags: tags
    sku: webSku
    identityId: identities.outputs.webIdentityId
    identityClientId: identities.outputs.webClientId
    appSettings: union(sharedSettings, {
      ConnectionStrings__Flowgate: 'Host=${postgres.outputs.host};Database=${postgres.outputs.databaseName};Username=${identities.outputs.webName};Ssl Mode=Require'
      Flowgate__Runtime__Embedded: 'false'
      ServiceBus__FullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    })
  }
}

output webUrl string = 'https://${web.outputs.defaultHostName}'
output webAppName string = web.outputs.appName
output functionAppName string = functions.outputs.appName
output storageAccountName string = storage.outputs.accountName
output postgresHost string = postgres.outputs.host
output keyVaultName string = keyVault.outputs.vaultName
output serviceBusNamespace string = serviceBus.outputs.fullyQualifiedNamespace
