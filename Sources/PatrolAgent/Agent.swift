import PatrolCore
