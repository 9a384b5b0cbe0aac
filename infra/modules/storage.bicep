// The Storage account: blobs (run data, uploads, the Data Protection key ring, Function App
// packages) and queues (the work queue and its poison queue). Shared-key access is off; each app's
// identity holds data roles on what it uses.
param accountName string
param location string
param tags object
param webPrincipalId string
param functionsPrincipalId string

var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

// Names the engine and the functions use; see docs/decisions/014 and 015.
var containers = [
  'flowgate'
  'uploads'
  'keys'
  'deployments'
]
var queues = [
  'flowgate-work'
  'flowgate-work-poison'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: accountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_ZRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    defaultToOAuthAuthentication: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containers: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource workQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in queues: {
  parent: queueService
  name: queue
}]

// The Functions host keeps its own state (leases, timer schedules) here too, so its identity owns blobs and uses tables.
var assignments = [
  {
    principalId: functionsPrincipalId
    role: blobDataOwner
  }
  {
    principalId: functionsPrincipalId
    role: queueDataContributor
  }
  {
    principalId: functionsPrincipalId
    role: tableDataContributor
  }
  {
    principalId: webPrincipalId
    role: blobDataContributor
  }
]

resource roles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for assignment in assignments: {
  name: guid(account.id, assignment.principalId, assignment.role)
  scope: account
  properties: {
    principalId: assignment.principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.role)
  }
}]

output accountName string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output deploymentContainer string = containers[3]
output keysContainer string = containers[2]
