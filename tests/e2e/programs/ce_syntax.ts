const greeting: string = ;
