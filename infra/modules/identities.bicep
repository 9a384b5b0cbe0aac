// One identity per app, so each gets only the roles its own work needs.
param baseName string
param location string
param tags object

resource web 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${baseName}-web'
  location: location
  tags: tags
}

resource functions 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${baseName}-func'
  location: location
  tags: tags
}

output webIdentityId string = web.id
output webPrincipalId string = web.properties.principalId
output webClientId string = web.properties.clientId
output webName string = web.name
output functionsIdentityId string = functions.id
output functionsPrincipalId string = functions.properties.principalId
output functionsClientId string = functions.properties.clientId
output functionsName string = functions.name
